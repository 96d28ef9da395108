"""Organisation × facet coverage: the matching engine's calibrated confidence per facet query."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from corpus.models import Organisation
from matcher.teams.facets import Facet


class ScoringEngine(Protocol):
    """What coverage needs from `matcher.engine.MatchEngine`."""

    @property
    def organisations(self) -> Mapping[str, Organisation]: ...

    @property
    def capable_confidence(self) -> float: ...

    def confidences(self, text: str, *, facets: bool = True) -> dict[str, float]: ...

    def match(self, text: str, *, top: int = 10) -> Any: ...


@dataclass(frozen=True)
class CoverageMatrix:
    """`values[i, j]` ∈ [0, 1]: how well organisation `org_ids[i]` covers facet `facets[j]`.

    `evidence[(org_id, facet_id)]` is the organisation's best passage for that facet, where the
    engine returned one. `capable` is the confidence from which a facet counts as covered: the
    engine calibration's capable level (0.5, "more likely than not", for a hand-made matrix).
    """

    facets: tuple[Facet, ...]
    org_ids: tuple[str, ...]
    values: np.ndarray
    evidence: Mapping[tuple[str, str], str] = field(default_factory=dict)
    capable: float = 0.5

    @property
    def weights(self) -> np.ndarray:
        return np.array([facet.weight for facet in self.facets], dtype=float)

    def row(self, org_id: str) -> np.ndarray:
        return self.values[self.org_ids.index(org_id)]

    def evidence_for(self, org_id: str, facet_id: str) -> str | None:
        return self.evidence.get((org_id, facet_id))


def build_coverage(
    engine: ScoringEngine, facets: Sequence[Facet], *, evidence_top: int = 50
) -> CoverageMatrix:
    """Score every organisation on every facet's query; rows are organisations with any hit.

    Evidence comes from `engine.match(query, top=evidence_top)`: organisations outside that
    top list still get their coverage value, without a passage.
    """
    scores = [engine.confidences(facet.query, facets=False) for facet in facets]
    org_ids = tuple(sorted({org for per_facet in scores for org in per_facet}))
    position = {org: i for i, org in enumerate(org_ids)}
    values = np.zeros((len(org_ids), len(facets)), dtype=float)
    for column, per_facet in enumerate(scores):
        for org, value in per_facet.items():
            values[position[org], column] = min(1.0, max(0.0, float(value)))
    evidence: dict[tuple[str, str], str] = {}
    for facet in facets:
        result = engine.match(facet.query, top=evidence_top)
        for candidate in result.candidates:
            if candidate.evidence:
                evidence[(candidate.org_id, facet.id)] = candidate.evidence[0].text
    return CoverageMatrix(tuple(facets), org_ids, values, evidence, engine.capable_confidence)
