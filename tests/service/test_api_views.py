"""What the page's views ask of the API: editing posted challenges, live area counts,
organisation profiles, team exports (formula-safe) and a job's landscape errors."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from corpus.models import OrgKind
from matcher.teams.facets import Facet
from matcher.teams.solvers import FacetScore, Solver, SolverResult
from service.export.teams import solvers_csv, solvers_xlsx


def test_posted_challenges_are_edited_and_counted_in_their_area(live_server, api_key) -> None:
    with live_server.client(api_key) as client:
        counts = {a["no"]: a["challenges"] for a in client.get("/challenges").json()["areas"]}
        posted = client.post("/challenges", json={"text": "五轴数控机床热误差补偿"}).json()
        assert posted["area_no"] == 6
        after = {a["no"]: a["challenges"] for a in client.get("/challenges").json()["areas"]}
        assert after[6] == counts[6] + 1  # the menu counts what the list holds
        assert client.get(f"/challenges/{posted['id']}/candidates").status_code == 200
        assert client.get(f"/challenges/{posted['id']}/results").json()  # a stored ranking

        edited = client.put(
            f"/challenges/{posted['id']}", json={"text": "废旧锂电池电解液的低温炭化回收"}
        )
        assert edited.status_code == 200, edited.text
        assert edited.json()["area"].startswith("资源循环利用") and edited.json()["area_inferred"]
        assert client.get(f"/challenges/{posted['id']}").json()["text"].startswith("废旧锂电池")
        assert client.get(f"/challenges/{posted['id']}/results").json() == []  # stale: gone

        with live_server.client() as anonymous:
            refused = anonymous.put(f"/challenges/{posted['id']}", json={"text": "光刻胶"})
        assert refused.status_code == 401
        builtin = client.put("/challenges/ZJ2021-06-01", json={"text": "光刻胶"})
        assert (builtin.status_code, builtin.json()["error"]["code"]) == (409, "builtin_challenge")
        unknown = client.put("/challenges/U-nowhere", json={"text": "光刻胶"})
        assert unknown.json()["error"]["code"] == "challenge_not_found"
        emoji = client.put(f"/challenges/{posted['id']}", json={"text": "😀😀"})
        assert emoji.json()["error"]["detail"][0]["code"] == "no_letters"
        assert client.delete(f"/challenges/{posted['id']}").status_code == 204


def test_an_organisation_profile(live_server) -> None:
    with live_server.client() as client:
        profile = client.get("/organisations/demo-061/profile").json()
        assert profile["organisation"]["id"] == "demo-061"
        assert profile["evidence"] and profile["evidence"][0]["source"] == "capability"
        capable = profile["capable_for"]
        assert capable and all(row["confidence"] >= profile["capable_level"] for row in capable)
        assert capable == sorted(capable, key=lambda row: -row["confidence"])
        best = client.get(f"/challenges/{capable[0]['challenge_id']}/candidates?top=200").json()
        mine = next(c for c in best["candidates"] if c["org_id"] == "demo-061")
        assert mine["confidence"] == capable[0]["confidence"]  # the ranking's own confidence
        above = sum(1 for c in best["candidates"] if c["confidence"] > mine["confidence"])
        assert capable[0]["rank"] == above + 1
        regimes = profile["eligibility"]["regimes"]
        assert regimes and all(check["label"] for r in regimes for check in r["checks"])
        missing = client.get("/organisations/nope/profile")
        assert missing.json()["error"] == {
            "code": "organisation_not_found",
            "message": "没有编号为「nope」的机构",
        }


def test_team_exports_download(live_server) -> None:
    with live_server.client() as client:
        solvers = client.get("/challenges/ZJ2021-09-02/solvers/export", params={"format": "csv"})
        assert solvers.status_code == 200 and solvers.content.startswith(b"\xef\xbb\xbf")
        assert "jiebang-ZJ2021-09-02-solvers.csv" in solvers.headers["content-disposition"]
        teams = client.get("/challenges/ZJ2021-09-02/consortium/export", params={"teams": 2})
        book = load_workbook(io.BytesIO(teams.content))
        assert book.sheetnames == ["联合体成员", "要点覆盖"]
        members = list(book["联合体成员"].iter_rows(min_row=4, values_only=True))
        assert {row[0] for row in members} == {1, 2} and "牵头单位" in {row[2] for row in members}


def test_solver_exports_are_formula_safe() -> None:
    facet = Facet(id="F1", text="=SUM(A1:A9)", query="q")
    solver = Solver(
        rank=1,
        org_id="x",
        name='=HYPERLINK("http://evil")',
        kind=OrgKind.enterprise,
        region="@浙江",
        covered_facets=1,
        expected_share=0.5,
        facets=[FacetScore(facet_id="F1", facet="=SUM(A1:A9)", coverage=0.5, covered=True)],
    )
    result = SolverResult(query="+1", facets=[facet], gap_threshold=0.3, solvers=[solver])
    rows = list(csv.reader(io.StringIO(solvers_csv(result).decode("utf-8-sig"))))
    assert rows[0][-1] == "F1 =SUM(A1:A9)"  # not at the start of a cell: harmless
    assert rows[1][2] == '\'=HYPERLINK("http://evil")' and rows[1][4] == "'@浙江"
    sheet = load_workbook(io.BytesIO(solvers_xlsx(result))).active
    assert sheet["B1"].value == "'+1" and sheet["C5"].value.startswith("'=")


def test_a_landscape_needs_a_finished_job(live_server) -> None:
    with live_server.client() as client:
        unknown = client.get("/jobs/nope/landscape")
        assert unknown.json()["error"]["code"] == "job_not_found"
        bad = client.get("/jobs/nope/landscape/secrets.txt")
        assert bad.status_code == 404 and "可选" in bad.json()["error"]["message"]
        assert client.get("/limits").json()["upload_bytes"] == 50_000_000
