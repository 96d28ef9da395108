"""A shortlist workbook: a summary sheet, then one sheet per challenge with its candidates.

The summary has one row per challenge: its id, name, area (marked when inferred), issuer,
deadline, the best candidate, its confidence, how many candidates reach the capable level, and
the sheet holding the rest. Each challenge's sheet repeats the challenge above its candidates:
rank, organisation, kind, region, confidence, capable (✓), the years of its patent evidence and
its best evidence. Every cell goes through `cells.safe_cell` (`tables.xlsx_bytes`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from corpus.errors import DataError
from corpus.models import OrgKind, year_of
from matcher.results import Candidate
from service.export.tables import Sheet, xlsx_bytes
from service.usecases.shortlist import RankedChallenge

SUMMARY_SHEET = "汇总"
SUMMARY_HEADER = ["序号", "挑战编号", "挑战", "领域", "发榜单位", "截止时间", "最佳候选机构",
                  "置信度", "有能力的候选数", "工作表", "来源"]  # fmt: skip
SUMMARY_WIDTHS = (6, 14, 50, 14, 20, 12, 30, 8, 10, 24, 24)
CANDIDATE_HEADER = ["排名", "机构编号", "机构名称", "类型", "地区", "置信度", "有能力",
                    "证据年份", "主要证据"]  # fmt: skip
CANDIDATE_WIDTHS = (6, 16, 30, 10, 14, 8, 8, 14, 80)
MAX_SHEET_NAME = 31
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\']")


def sheet_name(number: int, challenge_name: str) -> str:
    """ "03 高效能钒电池储能关键材料开发…": unique by its number, within Excel's 31 characters."""
    name = _SHEET_FORBIDDEN.sub(" ", challenge_name).strip()
    return f"{number:02d} {name}"[:MAX_SHEET_NAME].rstrip()


def evidence_years(candidate: Candidate) -> str:
    """The distinct years of a candidate's dated evidence, oldest first: "2019、2021"."""
    years = sorted({y for hit in candidate.evidence if (y := year_of(hit.date)) is not None})
    return "、".join(str(year) for year in years)


def shortlist_xlsx(
    ranked: Sequence[RankedChallenge], *, file_name: str, rejects: Sequence[DataError] = ()
) -> bytes:
    """The workbook for `ranked` (challenges of `file_name`); skipped items are listed last."""
    names = [sheet_name(n, _name(r)) for n, r in enumerate(ranked, start=1)]
    summary = Sheet(
        SUMMARY_SHEET,
        SUMMARY_HEADER,
        [
            _summary_row(n, r, name)
            for n, (r, name) in enumerate(zip(ranked, names, strict=True), 1)
        ],
        preamble=[["文件", file_name], ["挑战数", len(ranked)], []],
        widths=SUMMARY_WIDTHS,
    )
    sheets = [summary]
    sheets += [_challenge_sheet(r, name) for r, name in zip(ranked, names, strict=True)]
    if rejects:
        sheets.append(
            Sheet("跳过的条目", ["原因"], [[str(error)] for error in rejects], widths=(120,))
        )
    return xlsx_bytes(sheets)


def _name(ranked: RankedChallenge) -> str:
    return ranked.challenge.title or ranked.challenge.text


def _area(ranked: RankedChallenge) -> str:
    challenge = ranked.challenge
    return f"{challenge.area}（推断）" if challenge.area_inferred else challenge.area


def _summary_row(number: int, ranked: RankedChallenge, sheet: str) -> list[object]:
    challenge, best = ranked.challenge, next(iter(ranked.result.candidates), None)
    return [
        number,
        challenge.id,
        _name(ranked),
        _area(ranked),
        challenge.issuer or "",
        challenge.deadline or "",
        best.name if best else (ranked.result.reason or "无候选机构"),
        round(best.confidence, 4) if best else None,
        ranked.capable,
        sheet,
        (challenge.origin or "").split(" · ", 1)[-1],
    ]


def _challenge_sheet(ranked: RankedChallenge, name: str) -> Sheet:
    challenge, result = ranked.challenge, ranked.result
    preamble: list[list[object]] = [
        ["挑战编号", challenge.id],
        ["挑战", challenge.text],
        ["领域", _area(ranked)],
    ]
    given = (("发榜单位", challenge.issuer), ("截止时间", challenge.deadline))
    preamble += [[label, value] for label, value in (*given, ("来源", challenge.origin)) if value]
    if result.reason:
        preamble.append(["说明", result.reason])
    preamble.append([])
    rows = [_candidate_row(rank, c, result.capable) for rank, c in enumerate(result.candidates, 1)]
    return Sheet(name, CANDIDATE_HEADER, rows, preamble=preamble, widths=CANDIDATE_WIDTHS)


def _candidate_row(rank: int, candidate: Candidate, capable: float | None) -> list[object]:
    try:
        kind = OrgKind(candidate.kind).label_zh
    except ValueError:
        kind = candidate.kind
    return [
        rank,
        candidate.org_id,
        candidate.name,
        kind,
        candidate.region,
        round(candidate.confidence, 4),
        "✓" if capable is not None and candidate.confidence >= capable else "",
        evidence_years(candidate),
        candidate.evidence[0].text if candidate.evidence else "",
    ]
