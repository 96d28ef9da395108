"""Challenge → facets → coverage → solvers or consortia: the one call each face makes."""

from __future__ import annotations

from collections.abc import Sequence

from matcher.teams.consortium import ConsortiumOptions, ConsortiumResult, propose_consortia
from matcher.teams.coverage import ScoringEngine, build_coverage
from matcher.teams.eligibility import LeadUnitRules
from matcher.teams.facets import Facet, KeywordSource, decompose
from matcher.teams.solvers import SolverResult, rank_solvers


def challenge_facets(
    text: str,
    *,
    area: str | None = None,
    segmenter: KeywordSource | None = None,
    engine: ScoringEngine | None = None,
) -> list[Facet]:
    """Facets of a challenge; the keyword fallback groups keywords by the engine's scores."""
    score = (lambda text: engine.confidences(text, facets=False)) if engine is not None else None
    return decompose(text, area=area, segmenter=segmenter, score=score)


def find_solvers(
    engine: ScoringEngine,
    facets: Sequence[Facet],
    *,
    query: str = "",
    top: int = 10,
    gap_threshold: float | None = None,
) -> SolverResult:
    """揭榜挂帅: the `top` single organisations by the `facets` they cover.

    A facet counts as covered from `gap_threshold` on (default: the engine calibration's
    capable level, where an organisation is more likely able to contribute than not).
    """
    coverage = build_coverage(engine, facets)
    return rank_solvers(
        coverage, engine.organisations, query=query, top=top, gap_threshold=gap_threshold
    )


def find_consortia(
    engine: ScoringEngine,
    facets: Sequence[Facet],
    *,
    query: str = "",
    options: ConsortiumOptions | None = None,
    rules: LeadUnitRules | None = None,
) -> ConsortiumResult:
    """公司+联盟 / 赛马制: disjoint teams covering `facets` (see `consortium`)."""
    coverage = build_coverage(engine, facets)
    return propose_consortia(
        coverage, engine.organisations, options=options, rules=rules, query=query
    )
