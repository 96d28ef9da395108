"""A ranking (`MatchResult`) as XLSX or CSV: one row per candidate with its best evidence."""

from __future__ import annotations

from corpus.models import OrgKind
from matcher.results import MatchResult
from service.export.tables import Sheet, csv_bytes, xlsx_bytes

HEADER = ["排名", "机构编号", "机构名称", "类型", "地区", "得分", "置信度", "主要证据"]
WIDTHS = (6, 16, 30, 12, 14, 9, 9, 80)


def _kind_label(kind: str) -> str:
    try:
        return OrgKind(kind).label_zh
    except ValueError:
        return kind


def ranking_rows(result: MatchResult) -> list[list[object]]:
    """One row per candidate, in rank order, with its best evidence passage."""
    return [
        [
            rank,
            candidate.org_id,
            candidate.name,
            _kind_label(candidate.kind),
            candidate.region,
            # None (a blank cell): only a facet reached it, so it has no whole-text score.
            round(candidate.score, 4) if candidate.score is not None else None,
            round(candidate.confidence, 4),
            candidate.evidence[0].text if candidate.evidence else "",
        ]
        for rank, candidate in enumerate(result.candidates, start=1)
    ]


def ranking_xlsx(result: MatchResult) -> bytes:
    """The query on the first line, then the table."""
    sheet = Sheet(
        "候选机构",
        HEADER,
        ranking_rows(result),
        preamble=[["查询", result.query], []],
        widths=WIDTHS,
    )
    return xlsx_bytes([sheet])


def ranking_csv(result: MatchResult) -> bytes:
    return csv_bytes(HEADER, ranking_rows(result))
