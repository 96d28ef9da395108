"""One challenge assessed: every organisation's score and confidence, whole text and facets.

`MatchEngine.assess` builds it; `match`, teams and reports read it. An organisation's
confidence for the challenge is its best over the whole text and each facet (one that works on
one enumerated technology can take part), and candidates are ordered by that confidence, then by
their score on the whole text: the probability ranking principle, so no list shows a confidence
rising down it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from matcher.evidence import Passage
from matcher.fusion import ChannelScores
from matcher.hybrid import Ranking
from matcher.results import FacetEvidence
from matcher.teams.facets import Facet


@dataclass(frozen=True)
class Scored:
    """One query text (the whole challenge or a facet): its hits, ranking and confidences."""

    text: str
    hits: dict[str, ChannelScores]
    ranking: Ranking
    confidence: dict[str, float]


@dataclass(frozen=True)
class Assessment:
    """The whole text and, for a challenge with several facets, each facet, scored."""

    text: str
    whole: Scored
    facets: list[Facet]
    variants: list[Scored]  # one per facet, in `facets` order; empty for a single-facet text
    confidence: dict[str, float]  # the best over `whole` and `variants`

    def order(self) -> list[str]:
        """Organisations by confidence, then whole-text score, then id."""
        scores = self.whole.ranking.scores
        return sorted(
            self.confidence,
            key=lambda g: (-self.confidence[g], -scores.get(g, float("-inf")), g),
        )

    def facet_evidence(
        self, group: str, capable: float, passages: Mapping[int, Passage]
    ) -> list[FacetEvidence]:
        """`group`'s confidence and best passage for each facet ([] for a single-facet text)."""
        found = []
        for facet, variant in zip(self.facets, self.variants, strict=True):
            confidence = variant.confidence.get(group, 0.0)
            best = variant.ranking.passages(group, 1)
            found.append(
                FacetEvidence(
                    facet_id=facet.id,
                    facet=facet.text,
                    confidence=round(confidence, 4),
                    covered=confidence >= capable,
                    evidence=passages[best[0]].text if best else None,
                )
            )
        return found
