"""Confidence of a candidate: P(grade ≥ 1 | challenge, organisation), "it can contribute".

Fitted on `challenge-org` (real published challenges, organisations graded 0/1/2 by pooled
judgement) over the top-10 candidates of every query, cross-validated (EVALUATION.md,
"Confidence"). The features are the candidate's evidence, as the engine computes them:

- `best_fused`: its best passage's fused score (z-units: deviations above the query's background);
- `second_fused`: its second passage's, floored at 0 (a second patent on the subject);
- `best_cosine`: its best raw dense cosine (absolute: does anything match well at all?);
- `best_lexical`: its best raw character TF-IDF cosine.

The raw scores let the confidence tell a challenge with a capable organisation from one with
none; the z-scores rank within a query.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

from matcher.calibration.logistic import Logistic

CANDIDATE_FEATURES = ("best_fused", "second_fused", "best_cosine", "best_lexical")


class CandidateModel(BaseModel):
    """The fitted confidence and the level that reads as "capable"."""

    logistic: Logistic
    capable: float = Field(
        ge=0, le=1, description="Confidence from which an organisation counts as capable."
    )

    def confidence(self, features: np.ndarray) -> np.ndarray:
        """Confidence per row of `features` (rows × `CANDIDATE_FEATURES`)."""
        return self.logistic.probability(features)
