"""揭榜挂帅 solvers: single organisations ranked by how broadly they cover a challenge's facets.

Breadth is the weighted power mean of an organisation's facet coverages with p = −1 (a harmonic
mean): like the arithmetic mean when coverage is even, but one facet the organisation cannot
touch pulls it down hard — a solver must take the whole challenge, not its favourite part.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from pydantic import BaseModel

from corpus.models import Organisation, OrgKind
from matcher.teams.coverage import CoverageMatrix
from matcher.teams.facets import Facet

BREADTH_POWER = -1.0
_FLOOR = 0.01  # a zero coverage would make the harmonic mean 0 whatever the other facets


class FacetScore(BaseModel):
    """One organisation on one facet."""

    facet_id: str
    facet: str
    coverage: float
    covered: bool
    evidence: str | None = None


class Solver(BaseModel):
    """A candidate to take the whole challenge."""

    rank: int
    org_id: str
    name: str
    kind: OrgKind
    region: str
    breadth: float
    mean_coverage: float
    covered_facets: int
    facets: list[FacetScore]


class SolverResult(BaseModel):
    """Ranked solvers; `notes` explains anything short of a full answer."""

    query: str
    facets: list[Facet]
    gap_threshold: float
    solvers: list[Solver]
    notes: list[str] = []


def power_mean(values: np.ndarray, weights: np.ndarray, p: float) -> np.ndarray:
    """Row-wise weighted power mean of `values` (rows × facets); p = 0 is the geometric mean."""
    values = np.clip(values, _FLOOR, 1.0)
    weights = weights / weights.sum()
    if p == 0:
        return np.exp(np.log(values) @ weights)
    return (values**p @ weights) ** (1.0 / p)


def rank_solvers(
    coverage: CoverageMatrix,
    organisations: Mapping[str, Organisation],
    *,
    query: str = "",
    top: int = 10,
    gap_threshold: float | None = None,
    power: float = BREADTH_POWER,
) -> SolverResult:
    """The `top` organisations by breadth, each with its per-facet coverage and evidence.

    A facet is covered from `gap_threshold` on (default: the matrix's capable level).
    """
    gap_threshold = coverage.capable if gap_threshold is None else gap_threshold
    notes: list[str] = []
    facets = list(coverage.facets)
    if not facets:
        notes.append("挑战文本没有分解出任何技术要点（facet），无法评估揭榜单位")
        return SolverResult(
            query=query, facets=[], gap_threshold=gap_threshold, solvers=[], notes=notes
        )
    if not coverage.org_ids:
        notes.append("没有任何单位对该挑战有证据命中")
        return SolverResult(
            query=query, facets=facets, gap_threshold=gap_threshold, solvers=[], notes=notes
        )
    weights = coverage.weights
    breadth = power_mean(coverage.values, weights, power)
    mean = coverage.values @ (weights / weights.sum())
    order = sorted(
        range(len(coverage.org_ids)), key=lambda i: (-breadth[i], -mean[i], coverage.org_ids[i])
    )
    solvers = []
    for rank, row in enumerate(order[: max(0, top)], start=1):
        org_id = coverage.org_ids[row]
        org = organisations.get(org_id) or Organisation(id=org_id, name=org_id)
        scores = [
            FacetScore(
                facet_id=facet.id,
                facet=facet.text,
                coverage=round(float(coverage.values[row, j]), 4),
                covered=bool(coverage.values[row, j] >= gap_threshold),
                evidence=coverage.evidence_for(org_id, facet.id),
            )
            for j, facet in enumerate(facets)
        ]
        solvers.append(
            Solver(
                rank=rank,
                org_id=org_id,
                name=org.name,
                kind=org.kind,
                region=org.region.label(),
                breadth=round(float(breadth[row]), 4),
                mean_coverage=round(float(mean[row]), 4),
                covered_facets=sum(score.covered for score in scores),
                facets=scores,
            )
        )
    most = max((solver.covered_facets for solver in solvers), default=0)
    if most < len(facets):
        notes.append(
            f"没有单一单位覆盖全部{len(facets)}个要点（最多覆盖{most}个，"
            f"阈值{gap_threshold}）：可考虑组建联合体（公司+联盟）"
        )
    return SolverResult(
        query=query, facets=facets, gap_threshold=gap_threshold, solvers=solvers, notes=notes
    )
