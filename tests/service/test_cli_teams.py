"""`jiebang solvers`, `consortium`, `eligibility` end to end on the demo corpus, real model."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from corpus.demo import demo_organisations_path
from corpus.loaders import load_organisations
from corpus.models import OrgKind
from matcher.teams.consortium import ACADEMIC_KINDS
from matcher.teams.eligibility import check_lead_unit
from tests.conftest import cli_environment

JIEBANG = [sys.executable, "-m", "service.cli"]


@pytest.fixture(scope="module")
def env(test_home, tmp_path_factory) -> dict[str, str]:
    environment = cli_environment(test_home, tmp_path_factory.mktemp("teams-index"))
    built = run(environment, "index", "build")
    assert built.returncode == 0, built.stderr
    return environment


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*JIEBANG, *args], env=env, capture_output=True, text=True, timeout=600)


def ok_json(env: dict[str, str], *args: str) -> dict:
    out = run(env, *args, "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def demo() -> dict:
    return {o.id: o for o in load_organisations(demo_organisations_path()).records}


def test_consortium_races_disjoint_产学研_teams_with_lead_units(env, demo):
    result = ok_json(env, "consortium", "--challenge", "ZJ2021-09-02", "--teams", "2")
    assert [f["text"] for f in result["facets"]] == [
        "傅里叶变换红外分析技术",
        "激光诱导击穿光谱分析技术",
        "高端红外热成像分析技术",
        "光谱分析核心算法",
    ]
    teams = result["teams"]
    assert len(teams) == 2 and teams[0]["coverage"] >= teams[1]["coverage"]
    members = [[m["org_id"] for m in team["members"]] for team in teams]
    assert all(len(ids) == 4 for ids in members)
    assert not set(members[0]) & set(members[1])
    for team, ids in zip(teams, members, strict=True):
        kinds = {demo[i].kind for i in ids}
        assert OrgKind.enterprise in kinds and kinds & ACADEMIC_KINDS
        lead = team["lead"]
        assert demo[lead["org_id"]].kind is OrgKind.enterprise and lead["why"]
        for cover in team["facets"]:
            if not cover["gap"]:
                assert cover["org_id"] in ids and cover["evidence"]
    spectral = teams[0]["facets"][1]  # 激光诱导击穿光谱分析技术
    assert "光谱" in spectral["evidence"] or "LIBS" in spectral["evidence"]


def test_consortium_table_names_the_lead_and_the_facets(env):
    out = run(env, "consortium", "-c", "ZJ2021-06-01", "--prefer-zhejiang")
    assert out.returncode == 0, out.stderr
    assert "队伍 1" in out.stdout and "牵头单位：" in out.stdout
    assert "机床误差补偿技术" in out.stdout and "地域偏好" in out.stdout


def test_solvers_rank_by_facets_covered_with_per_facet_evidence(env):
    result = ok_json(env, "solvers", "--challenge", "ZJ2021-06-01", "--top", "5")
    solvers = result["solvers"]
    assert len(solvers) == 5 and len(result["facets"]) == 3
    keys = [(s["covered_facets"], s["expected_share"]) for s in solvers]
    assert keys == sorted(keys, reverse=True)
    assert all(len(s["facets"]) == 3 for s in solvers)
    assert any(f["evidence"] for f in solvers[0]["facets"])


def test_free_text_explicit_facets_and_a_whole_area(env):
    given = ok_json(env, "solvers", "-c", "新能源电池回收", "-f", "电解液处理", "-f", "金属萃取")
    assert [f["text"] for f in given["facets"]] == ["电解液处理", "金属萃取"]
    area = ok_json(env, "solvers", "-c", "ZJ2021-06", "--top", "2")
    assert len(area["facets"]) == 19 and len(area["solvers"]) == 2


def test_eligibility_prints_the_libraries_verdict(env, demo):
    org_id = next(i for i, o in demo.items() if o.kind is OrgKind.enterprise and o.revenue_yi)
    expected = check_lead_unit(demo[org_id])
    report = ok_json(env, "eligibility", org_id)
    assert report["verdict"] == expected.verdict.value
    table = run(env, "eligibility", org_id, "--orgs", str(demo_organisations_path()))
    assert table.returncode == 0, table.stderr
    assert expected.verdict.label_zh in table.stdout and "近3年年均主营业务收入" in table.stdout


def test_impossible_requests_are_explained_not_crashed(env):
    # The most the request model allows runs (shrinking is explained, tests/matcher/teams) ...
    result = ok_json(env, "consortium", "-c", "ZJ2021-05-04", "--size", "10", "--teams", "5")
    assert result["teams"] and all(len(team["members"]) <= 10 for team in result["teams"])
    # ... and beyond its bounds is typer's usage error, naming the option, no traceback.
    out = run(env, "consortium", "-c", "ZJ2021-05-04", "--size", "500")
    assert out.returncode == 2 and "--size" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("consortium", "-c", "ZJ2099-01-01"), "unknown challenge id"),
        (("solvers", "-c", "   "), "empty"),
        (
            ("eligibility", "no-such-org", "--orgs", str(demo_organisations_path())),
            "unknown organisation",
        ),
        (("consortium", "-c", "ZJ2021-06-01", "--rules", "/nonexistent/rules.json"), "rules.json"),
    ],
)
def test_bad_input_is_one_line_and_nonzero(env, args, message):
    out = run(env, *args)
    assert out.returncode == 1
    assert message in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_team_options_are_generated_from_one_request_model():
    from typer.testing import CliRunner

    from service.api.app import create_app
    from service.cli.main import app
    from service.usecases.teams import TeamRequest

    shown = CliRunner().invoke(app, ["consortium", "--help"], env={"COLUMNS": "300"}).output
    for name, field in TeamRequest.model_fields.items():
        assert "--" + name.replace("_", "-") in shown and field.description[:20] in shown
    assert "--no-require-academic" in shown
    from service.settings import Settings

    spec = create_app(Settings(home=__import__("pathlib").Path("/tmp/jiebang-openapi"))).openapi()
    params = spec["paths"]["/challenges/{challenge_id}/consortium"]["get"]["parameters"]
    described = {p["name"]: p.get("description", "") for p in params}
    for name, field in TeamRequest.model_fields.items():
        assert described[name] == field.description
