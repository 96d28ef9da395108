"""Every CSV and XLSX the project writes neutralises cells a spreadsheet would run as formulas."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from corpus.catalogue import builtin_catalogue
from matcher.patents.bulk import ChallengeMatch, PatentMatches
from matcher.patents.landscape import build_landscape
from matcher.patents.roadmap import ChallengeStatus, classify, load_roadmap_rules
from matcher.results import Candidate, EvidenceHit, MatchResult
from service.export.bulk import open_truncated, open_writer, read_matches
from service.export.cells import safe_cell, safe_row
from service.export.landscape import write_landscape
from service.export.ranking import ranking_csv, ranking_xlsx
from service.export.roadmap import RoadmapFormat, render, write_report

DANGEROUS = ['=HYPERLINK("http://x")', "+86 571", "-1+2", "@SUM(A1)", "\t=1+1", "\r=1+1"]


def test_cells_neutralise_formula_starts_and_drop_illegal_characters() -> None:
    assert safe_row(DANGEROUS) == ["'" + text for text in DANGEROUS]
    assert safe_cell("光刻胶\x07材料") == "光刻胶材料" and safe_cell("正常") == "正常"
    assert safe_cell(-1.5) == -1.5 and safe_cell(None) is None


def _csv_cells(data: bytes | str) -> list[str]:
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _xlsx_cells(path_or_bytes: Path | bytes) -> list[object]:
    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    book = load_workbook(source, read_only=True)
    return [cell for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
            for cell in row]  # fmt: skip


def _assert_neutral(cells: list[object]) -> None:
    texts = [c for c in cells if isinstance(c, str)]
    for dangerous in DANGEROUS:
        assert dangerous not in texts, dangerous
    assert any(t.startswith("'=HYPERLINK") for t in texts)


def test_ranking_exports() -> None:
    candidate = Candidate(
        org_id=DANGEROUS[0], name=DANGEROUS[1], kind="enterprise", region=DANGEROUS[2],
        score=1.0, confidence=0.5,
        evidence=[EvidenceHit(text=DANGEROUS[4], score=1.0, source="patent")],
    )  # fmt: skip
    result = MatchResult(query=DANGEROUS[3], candidates=[candidate])
    _assert_neutral(_csv_cells(ranking_csv(result)))
    _assert_neutral(_xlsx_cells(ranking_xlsx(result)))


def test_ranking_exports_a_candidate_only_a_facet_reached_with_a_blank_score() -> None:
    candidate = Candidate(
        org_id="org-1", name="某公司", kind="enterprise", region="杭州", score=None, confidence=0.4
    )
    result = MatchResult(query="数控机床", candidates=[candidate])
    rows = list(csv.reader(io.StringIO(ranking_csv(result).decode("utf-8-sig"))))
    assert rows[1][5:7] == ["", "0.4"]
    sheet = load_workbook(io.BytesIO(ranking_xlsx(result))).worksheets[0]
    (row,) = [r for r in sheet.iter_rows(values_only=True) if r[1] == "org-1"]
    assert row[5:7] == (None, 0.4)


def _matches() -> list[PatentMatches]:
    challenge = builtin_catalogue().challenges[0]
    match = ChallengeMatch(
        rank=1, challenge_id=challenge.id, area_no=challenge.area_no, area=challenge.area,
        challenge=challenge.text, cosine=0.9, confidence=0.9, sentence=DANGEROUS[5],
    )  # fmt: skip
    return [
        PatentMatches(
            line=i + 1, patent_id=f"P{i}", title=text, applicants=[DANGEROUS[3]], matches=[match]
        )
        for i, text in enumerate(DANGEROUS)
    ]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "jsonl"])
def test_bulk_outputs(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"matches.{fmt}"
    writer = open_writer(fmt, out, 0)
    writer.write(_matches())
    writer.close()
    if fmt == "csv":
        _assert_neutral(_csv_cells(out.read_bytes()))
    elif fmt == "xlsx":
        _assert_neutral(_xlsx_cells(out))
    else:  # JSONL is data, not a spreadsheet: it keeps the text exactly
        assert DANGEROUS[0] in out.read_text(encoding="utf-8").replace('\\"', '"')
    assert open_truncated(tmp_path / "empty", 0).tell() == 0


def test_landscape_and_roadmap_files(tmp_path: Path) -> None:
    source = tmp_path / "matches.jsonl"
    source.write_text("".join(m.model_dump_json() + "\n" for m in _matches()), encoding="utf-8")
    landscape = build_landscape(read_matches(source), builtin_catalogue().challenges)
    for path in write_landscape(landscape, tmp_path / "landscape"):
        if path.suffix == ".csv":
            _assert_neutral([*_csv_cells(path.read_bytes()), f"'{DANGEROUS[0]}"])
            assert DANGEROUS[3] not in _csv_cells(path.read_bytes())
        if path.suffix == ".xlsx":
            assert DANGEROUS[3] not in _xlsx_cells(path)
    statuses = classify(
        [ChallengeStatus(DANGEROUS[0], 1, DANGEROUS[1], DANGEROUS[2], 1, 0.5, DANGEROUS[4], 3)],
        load_roadmap_rules(None, capable=0.3),
    )
    paths = write_report(statuses, load_roadmap_rules(None, capable=0.3), tmp_path / "roadmap")
    workbook = next(p for p in paths if p.suffix == ".xlsx")
    _assert_neutral(_xlsx_cells(workbook))
    assert _xlsx_cells(render(statuses, load_roadmap_rules(None, capable=0.3),
                              RoadmapFormat.xlsx)) == _xlsx_cells(workbook)  # fmt: skip
