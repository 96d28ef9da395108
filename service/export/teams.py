"""揭榜挂帅 solvers and 赛马制 teams as XLSX or CSV, like the candidate ranking's downloads.

Every cell goes through `cells.safe_cell` (in `tables`), so an organisation name or evidence
that starts with `=` stays text.
"""

from __future__ import annotations

from matcher.teams.consortium import ConsortiumResult
from matcher.teams.solvers import SolverResult
from service.export.tables import Sheet, csv_bytes, xlsx_bytes

SOLVER_HEADER = ["排名", "机构编号", "单位", "类型", "地区", "覆盖要点数", "要点数", "预期承担份额"]
MEMBER_HEADER = ["队伍", "队伍覆盖度", "角色", "机构编号", "单位", "类型", "地区", "可承担的要点"]
FACET_HEADER = ["队伍", "要点编号", "要点", "最佳成员", "覆盖度", "缺口", "证据"]


def solver_rows(result: SolverResult) -> list[list[object]]:
    """One row per solver; then its coverage of each facet, one column per facet."""
    return [
        [
            solver.rank,
            solver.org_id,
            solver.name,
            solver.kind.label_zh,
            solver.region,
            solver.covered_facets,
            len(solver.facets),
            round(solver.expected_share, 4),
            *(round(score.coverage, 4) for score in solver.facets),
        ]
        for solver in result.solvers
    ]


def _solver_header(result: SolverResult) -> list[str]:
    return [*SOLVER_HEADER, *(f"{facet.id} {facet.text}" for facet in result.facets)]


def solvers_xlsx(result: SolverResult) -> bytes:
    sheet = Sheet(
        "揭榜挂帅单位",
        _solver_header(result),
        solver_rows(result),
        preamble=[["挑战", result.query], ["覆盖阈值", result.gap_threshold], []],
        widths=(6, 16, 30, 12, 14, 10, 10, 8),
    )
    return xlsx_bytes([sheet])


def solvers_csv(result: SolverResult) -> bytes:
    return csv_bytes(_solver_header(result), solver_rows(result))


def member_rows(result: ConsortiumResult) -> list[list[object]]:
    """One row per member of every team, the lead first."""
    return [
        [
            team.rank,
            round(team.coverage, 4),
            "牵头单位" if member.role == "lead" else "成员",
            member.org_id,
            member.name,
            member.kind.label_zh,
            member.region,
            "、".join(member.covers) or "（补足规模，未达任何要点）",
        ]
        for team in result.teams
        for member in team.members
    ]


def facet_rows(result: ConsortiumResult) -> list[list[object]]:
    """One row per facet of every team: who covers it best, how well, with what evidence."""
    return [
        [
            team.rank,
            cover.facet_id,
            cover.facet,
            cover.name or "",
            round(cover.coverage, 4),
            "是" if cover.gap else "",
            cover.evidence or "",
        ]
        for team in result.teams
        for cover in team.facets
    ]


def consortium_xlsx(result: ConsortiumResult) -> bytes:
    members = Sheet(
        "联合体成员",
        MEMBER_HEADER,
        member_rows(result),
        preamble=[["挑战", result.query], []],
        widths=(6, 10, 10, 16, 30, 12, 14, 20),
    )
    facets = Sheet("要点覆盖", FACET_HEADER, facet_rows(result), widths=(6, 9, 30, 30, 9, 6, 80))
    return xlsx_bytes([members, facets])


def consortium_csv(result: ConsortiumResult) -> bytes:
    """The members (a CSV holds one table; the workbook adds the facet coverage)."""
    return csv_bytes(MEMBER_HEADER, member_rows(result))
