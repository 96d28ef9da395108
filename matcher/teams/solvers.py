"""揭榜挂帅 solvers: single organisations ranked by the facets of a challenge they can take on.

An organisation *covers* a facet when its calibrated confidence for that facet (the same
P(can contribute) the candidates show) reaches the capable level. Solvers rank by the number of
facets they cover, then by their **expected share**: the weighted mean of their facet
confidences, i.e. the share of the challenge they are expected to be able to take on (0.5 = half
of it). So a specialist who covers one facet of three always ranks above an organisation that
covers none, however evenly weak the latter is.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, Field

from corpus.models import Organisation, OrgKind
from matcher.teams.coverage import CoverageMatrix
from matcher.teams.facets import Facet


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
    covered_facets: int = Field(description="Facets whose confidence reaches the capable level.")
    expected_share: float = Field(
        description="Weighted mean of the facet confidences: the share of the challenge the "
        "organisation is expected to be able to take on."
    )
    facets: list[FacetScore]


class SolverResult(BaseModel):
    """Ranked solvers; `notes` explains anything short of a full answer."""

    query: str
    facets: list[Facet]
    gap_threshold: float
    solvers: list[Solver]
    notes: list[str] = []


def rank_solvers(
    coverage: CoverageMatrix,
    organisations: Mapping[str, Organisation],
    *,
    query: str = "",
    top: int = 10,
    gap_threshold: float | None = None,
) -> SolverResult:
    """The `top` organisations by facets covered, then expected share; each with its per-facet
    confidence and evidence. A facet is covered from `gap_threshold` on (default: the matrix's
    capable level)."""
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
    share = coverage.values @ (weights / weights.sum())
    covered = (coverage.values >= gap_threshold).sum(axis=1)
    order = sorted(
        range(len(coverage.org_ids)), key=lambda i: (-covered[i], -share[i], coverage.org_ids[i])
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
                covered_facets=int(covered[row]),
                expected_share=round(float(share[row]), 4),
                facets=scores,
            )
        )
    most = max((solver.covered_facets for solver in solvers), default=0)
    if most < len(facets):
        notes.append(
            f"没有单一单位覆盖全部{len(facets)}个要点（最多覆盖{most}个，"
            f"阈值{gap_threshold:.0%}）：可考虑组建联合体（公司+联盟）"
        )
    return SolverResult(
        query=query, facets=facets, gap_threshold=gap_threshold, solvers=solvers, notes=notes
    )
