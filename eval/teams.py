"""Teams report (issue 4): for every catalogue challenge (and every whole area), the best
consortium against the best single solver — facet coverage, and how often a facet stays uncovered.

Run: `jiebang eval teams [--size 4] [--gap G]` (the demo engine with the configured model;
prints Markdown for EVALUATION.md; G defaults to the calibration's capable level).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from corpus.models import Organisation
from matcher.teams.consortium import ConsortiumOptions, propose_consortia
from matcher.teams.coverage import ScoringEngine, build_coverage
from matcher.teams.facets import Facet, combine, decompose
from matcher.teams.solvers import rank_solvers


@dataclass(frozen=True)
class ChallengeRow:
    """One challenge: facet count, then coverage (mean of best coverage per facet) and covered
    facets for the top-ranked solver and the top-ranked team."""

    challenge_id: str
    facets: int
    solver: str
    solver_coverage: float
    solver_covered: int
    team_coverage: float
    team_covered: int
    lead_eligible: bool


class CachedEngine:
    """An engine whose per-query answers are memoised: areas reuse their challenges' facets."""

    def __init__(self, engine: ScoringEngine) -> None:
        self.organisations = engine.organisations
        self.capable_confidence = engine.capable_confidence
        self.confidences = cache(engine.confidences)
        self._match = cache(lambda text, top: engine.match(text, top=top))

    def match(self, text: str, *, top: int = 10) -> Any:
        return self._match(text, top)


def targets(catalogue: Any) -> tuple[list[tuple[str, list[Facet]]], list[tuple[str, list[Facet]]]]:
    """(challenge targets, whole-area targets) of a `corpus.catalogue.Catalogue`, with facets."""
    per_challenge = {c.id: decompose(c.text, area=c.area) for c in catalogue.challenges}
    areas = [
        (f"area {area.no:02d} {area.name}",
         combine([per_challenge[c.id] for c in catalogue.by_area(area.no)]))
        for area in catalogue.areas
    ]  # fmt: skip
    return list(per_challenge.items()), areas


def teams_rows(
    engine: ScoringEngine,
    items: Iterable[tuple[str, list[Facet]]],
    organisations: Mapping[str, Organisation],
    *,
    size: int = 4,
    gap_threshold: float | None = None,
) -> list[ChallengeRow]:
    """Solver #1 and team #1 per (id, facets) item, from one coverage matrix each."""
    rows = []
    options = ConsortiumOptions(size=size, gap_threshold=gap_threshold)
    for challenge_id, facets in items:
        coverage = build_coverage(engine, facets)
        solver = rank_solvers(coverage, organisations, top=1, gap_threshold=gap_threshold)
        teams = propose_consortia(coverage, organisations, options=options).teams
        team = teams[0] if teams else None  # none is offered when no member covers a facet
        best = solver.solvers[0]
        rows.append(
            ChallengeRow(
                challenge_id=challenge_id,
                facets=len(facets),
                solver=best.name,
                solver_coverage=best.expected_share,
                solver_covered=best.covered_facets,
                team_coverage=team.coverage if team else 0.0,
                team_covered=team.covered_facets if team else 0,
                lead_eligible=bool(team and team.lead and not team.lead.flagged),
            )
        )
    return rows


def to_markdown(
    rows: list[ChallengeRow], areas: list[ChallengeRow], *, size: int, gap_threshold: float
) -> str:
    """Summary (challenges, those with ≥2 facets, whole areas), then one line per item."""

    def summary(label: str, subset: list[ChallengeRow]) -> str:
        n = len(subset)
        solver_gap = sum(r.solver_covered < r.facets for r in subset) / n
        team_gap = sum(r.team_covered < r.facets for r in subset) / n
        return (
            f"| {label} | {n} | {sum(r.facets for r in subset) / n:.2f} "
            f"| {sum(r.solver_coverage for r in subset) / n:.3f} "
            f"| {sum(r.team_coverage for r in subset) / n:.3f} "
            f"| {solver_gap:.1%} | {team_gap:.1%} "
            f"| {sum(r.lead_eligible for r in subset) / n:.1%} |"
        )

    multi = [r for r in rows if r.facets >= 2]
    lines = [
        f"Team size {size}, gap threshold {gap_threshold} (calibrated confidence). Coverage = mean "
        "over a challenge's facets of the best coverage (solver: its own; team: its best member).",
        "",
        "| challenges | n | facets/challenge | solver #1 coverage | team #1 coverage "
        "| ≥1 uncovered facet: solver | ≥1 uncovered facet: team | team lead eligible |",
        "|---|---|---|---|---|---|---|---|",
        summary("all", rows),
        summary("≥2 facets", multi),
        summary("whole areas", areas),
        "",
        "| challenge | facets | solver #1 | solver coverage (covered) | team coverage (covered) |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.challenge_id} | {r.facets} | {r.solver} | {r.solver_coverage:.3f} "
        f"({r.solver_covered}/{r.facets}) | {r.team_coverage:.3f} ({r.team_covered}/{r.facets}) |"
        for r in [*rows, *areas]
    ]
    return "\n".join(lines)
