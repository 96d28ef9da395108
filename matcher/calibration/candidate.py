"""Confidence of a candidate: P(grade ≥ 1 | challenge, organisation), "it can contribute".

Fitted on `challenge-org` (real published challenges, organisations graded 0/1/2 by pooled
judgement) over the top-10 candidates of every query, cross-validated (EVALUATION.md,
"Confidence"). Its features, all independent of what else is indexed:

- `score`: the organisation's ranking score, its fused evidence in deviations above the query's
  reference background (`embed.background`), aggregated over its passages;
- `dense_mean`, `dense_std`: the query's own mean and deviation of cosine over that background.
  An absolute cosine is `dense_mean + z · dense_std`, so together with `score` they tell a
  query that anything matches well from one where only this organisation does.

The fitted coefficient of `score` is positive, so within one query the confidence rises with
the score: a list ranked by score never shows a confidence rising down it (`require_monotone`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from pydantic import BaseModel, Field

from corpus.errors import JiebangError
from matcher.calibration.logistic import Logistic
from matcher.fusion import ChannelScores

CANDIDATE_FEATURES = ("score", "dense_mean", "dense_std")
"""Every feature a candidate model may use; a fitted model names the ones it does."""


def candidate_features(
    scores: np.ndarray, hits: Mapping[str, ChannelScores]
) -> dict[str, np.ndarray]:
    """Each feature of `CANDIDATE_FEATURES` for organisations with ranking `scores` under one
    query (whose channel scores are `hits`), as columns."""
    scores = np.asarray(scores, dtype=np.float64)
    dense_mean, dense_std = hits["dense"].background
    return {
        "score": scores,
        "dense_mean": np.full(len(scores), dense_mean),
        "dense_std": np.full(len(scores), dense_std),
    }


class CandidateModel(BaseModel):
    """The fitted confidence and the level that reads as "capable"."""

    logistic: Logistic
    capable: float = Field(
        ge=0, le=1, description="Confidence from which an organisation counts as capable."
    )

    def confidence(self, features: Mapping[str, np.ndarray]) -> np.ndarray:
        """Confidence per organisation, from `candidate_features`' columns."""
        return self.logistic.probability(
            np.column_stack([features[name] for name in self.logistic.features])
        )

    def confidences(
        self, scores: Mapping[str, float], hits: Mapping[str, ChannelScores]
    ) -> dict[str, float]:
        """Each organisation's confidence from its ranking `scores` under one query (`hits`)."""
        if not scores:
            return {}
        groups = list(scores)
        features = candidate_features(np.array([scores[g] for g in groups]), hits)
        return dict(zip(groups, self.confidence(features).tolist(), strict=True))

    def require_monotone(self) -> CandidateModel:
        """Refuse a model whose confidence would fall as the score rises."""
        if "score" not in self.logistic.features:
            raise JiebangError("a candidate model must use the ranking score")
        if self.logistic.coef[self.logistic.features.index("score")] <= 0:
            raise JiebangError(
                "the fitted confidence does not rise with the ranking score; refusing it "
                "(it would show a confidence rising down a ranked list)"
            )
        return self
