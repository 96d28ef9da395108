"""How the engine ranks: a fusion and an aggregation for each of two query regimes.

A short query names a subject (a challenge title, a facet): an organisation ranks by its best
passage plus a share of its second, dense-weighted (`short`, fitted on challenge-org). A long one
describes one invention (a whole patent): an organisation ranks by how much of its portfolio
matches, with more weight on the words (`long`, Balog, fitted on patents-applicant). One regime
for both loses 0.04–0.07 on one task or the other (EVALUATION.md, "Aggregation"); the dev sets'
challenges are ≤ 94 characters and their patents mostly ≥ 160, and results barely move for a
boundary anywhere from 96 to 160.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from matcher.aggregate import Aggregation, AggregationConfig
from matcher.fusion import FusionConfig


class QueryRegime(BaseModel):
    """The fusion and aggregation for one kind of query."""

    fusion: FusionConfig = Field(default_factory=FusionConfig)
    aggregation: AggregationConfig = Field(default_factory=AggregationConfig)


class RankingConfig(BaseModel):
    """The two regimes and the query length that separates them."""

    short: QueryRegime = Field(
        default_factory=lambda: QueryRegime(
            fusion=FusionConfig(weights={"dense": 0.8, "lexical": 0.2}),
            aggregation=AggregationConfig(
                mode=Aggregation.topk_decay, params={"k": 2, "decay": 0.2}
            ),
        )
    )
    long: QueryRegime = Field(
        default_factory=lambda: QueryRegime(
            fusion=FusionConfig(weights={"dense": 0.7, "lexical": 0.3}),
            aggregation=AggregationConfig(mode=Aggregation.balog, params={"temperature": 2.0}),
        )
    )
    long_query_chars: int = Field(default=128, ge=1)

    def regime_for(self, text: str) -> QueryRegime:
        """The regime of a query with this text."""
        return self.long if len(text.strip()) >= self.long_query_chars else self.short
