"""`jiebang challenges import` and `jiebang match --file` end to end, on files made from real
texts, with a database of their own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from tests.conftest import cli_environment
from tests.files import (
    challenge_docx_list,
    challenge_xlsx,
    patent_xlsx,
    real_challenges,
    scanned_pdf,
)

JIEBANG = [sys.executable, "-m", "service.cli"]


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*JIEBANG, *args], env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture
def env(test_home: Path, tmp_path: Path) -> dict[str, str]:
    return cli_environment(test_home, tmp_path / "index") | {
        "JIEBANG_DATABASE_URL": f"sqlite:///{tmp_path / 'jiebang.db'}"
    }


@pytest.fixture
def sources(shared_data: Path):
    return real_challenges(shared_data)


def imported_ids(env: dict[str, str]) -> list[str]:
    out = run(env, "challenges", "list", "--json")
    assert out.returncode == 0, out.stderr
    return [row["id"] for row in json.loads(out.stdout) if row["id"].startswith("F-")]


def error_line(out: subprocess.CompletedProcess) -> str:
    assert out.returncode == 1 and "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    return lines[0]


def test_dry_run_json_then_import_and_reimport(env, sources, tmp_path) -> None:
    listed = challenge_docx_list(tmp_path / "榜单.docx", sources, "1.")
    dry = run(env, "challenges", "import", str(listed), "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    rows = json.loads(dry.stdout)
    assert [r["text"] for r in rows] == [s.text for s in sources]
    assert [(r["area"], r["area_inferred"]) for r in rows] == [(s.area, False) for s in sources]
    assert {"id", "area", "area_inferred", "text", "issuer", "deadline", "origin"} <= set(rows[0])
    assert "nothing stored" in dry.stderr
    assert imported_ids(env) == []

    table = challenge_xlsx(tmp_path / "榜单.xlsx", sources)
    first = run(env, "challenges", "import", str(table))
    assert first.returncode == 0, first.stderr
    assert f"stored {len(sources)} challenges from 榜单.xlsx ({len(sources)} new, 0 replaced)" in (
        first.stderr
    )
    assert "F-" in first.stdout and "sheet '榜单'" in first.stdout  # the table
    again = run(env, "challenges", "import", str(table))
    assert f"(0 new, {len(sources)} replaced)" in again.stderr
    ids = imported_ids(env)
    assert len(ids) == len(set(ids)) == len(sources)


def test_bad_input_is_one_line_and_stores_nothing(env, sources, tmp_path) -> None:
    book = Workbook()
    book.active.title = "需求"
    book.active.append(["序号", "项目名称", "研究内容", "所属领域"])
    book.active.append([1, sources[0].title, sources[0].description, sources[0].area])
    book.active.append([2, None, None, sources[1].area])
    path = tmp_path / "需求.xlsx"
    book.save(path)
    refused = run(env, "challenges", "import", str(path))
    assert error_line(refused) == (
        f"error: {path}: sheet '需求' row 3: empty text: no name (榜单名称) and no description"
    )
    assert imported_ids(env) == []
    skipped = run(env, "challenges", "import", str(path), "--skip-invalid")
    assert skipped.returncode == 0, skipped.stderr
    assert f"skipped {path}: sheet '需求' row 3: empty text" in skipped.stderr
    assert len(imported_ids(env)) == 1

    scan = scanned_pdf(tmp_path / "扫描.pdf", sources)
    assert "page 1: no text layer (a scanned image?)" in error_line(
        run(env, "challenges", "import", str(scan))
    )
    unknown = tmp_path / "list.doc"
    unknown.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    assert "save it as .docx" in error_line(run(env, "challenges", "import", str(unknown)))


def test_index_from_a_patent_export_and_a_shortlist_for_a_file(env, sources, shared_data, tmp_path):
    patents, rows = patent_xlsx(shared_data, tmp_path / "专利检索.xlsx", count=12)
    built = run(env, "index", "build", "--patents", str(patents))
    assert built.returncode == 0, built.stderr
    # The export's applicants (several per row) became organisations; the dates travel with
    # the evidence.
    top = run(env, "match", rows[0]["title"], "--top", "1", "--json")
    assert top.returncode == 0, top.stderr
    (best,) = json.loads(top.stdout)
    assert best["name"] in rows[0]["applicants"]
    assert best["evidence"][0]["date"] == rows[0]["date"]
    table = run(env, "match", rows[0]["title"], "--top", "1")
    assert f"〔{rows[0]['date'][:4]}〕" in table.stdout

    listed = challenge_docx_list(tmp_path / "揭榜挂帅.docx", sources, "①")
    out = tmp_path / "shortlist.xlsx"
    ranked = run(env, "match", "--file", str(listed), "--out", str(out), "--top", "5")
    assert ranked.returncode == 0, ranked.stderr
    assert f"shortlist → {out}" in ranked.stderr
    book = load_workbook(out)
    assert book.sheetnames[0] == "汇总" and len(book.sheetnames) == 1 + len(sources)
    summary = [r for r in book["汇总"].iter_rows(values_only=True) if isinstance(r[0], int)]
    assert [r[2] for r in summary] == [s.title for s in sources]
    assert [r[4] for r in summary] == [s.issuer for s in sources]
    for row in summary:
        candidates = [r for r in book[row[9]].iter_rows(values_only=True) if isinstance(r[0], int)]
        assert len(candidates) == 5 and candidates[0][2] == row[6]
        years = [r[7] for r in candidates if r[7]]
        assert all(all(y.isdigit() for y in str(v).split("、")) for v in years)
    assert run(env, "match", "x", "--file", str(listed)).returncode == 1
