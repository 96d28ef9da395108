"""Bulk matching's decision: does this patent address one of the appendix's areas?

Retrieval alone (a patent's fused, cosine and TF-IDF scores against the area's challenges)
separates the areas poorly: the judged negatives are near misses (a phone that only *uses* a
chip, generic 3GPP signalling). So each area also has a supervised direction in the encoder's
vector space, a logistic regression of the area's label on the patent vector fitted on the
labelled dev patents (`patent-area`): it learns where the assessors drew the line. The final
probability is a logistic model over both (`AREA_FEATURES`):

- `area_score`: the patent's best fused score over the area's challenges (z-units);
- `best_cosine`, `best_lexical`: the raw channel scores behind it;
- `supervised`: the area direction's logit for the patent's vector.

`threshold` (on that probability) is fitted for F1 by cross-validation on `patent-area`.
The directions belong to the model whose vectors they were fitted on.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

from matcher.calibration.logistic import Logistic

AREA_FEATURES = ("area_score", "best_cosine", "best_lexical", "supervised")


class AreaModel(BaseModel):
    """Per-area supervised directions, the decision model over `AREA_FEATURES`, its threshold."""

    areas: list[int] = Field(description="Appendix row numbers, in the order of `vectors`.")
    vectors: list[list[float]]
    bias: list[float]
    logistic: Logistic
    threshold: float = Field(ge=0, le=1)

    def supervised(self, vectors: np.ndarray) -> np.ndarray:
        """(patents × areas) logit of each area's direction for each patent vector."""
        weights = np.asarray(self.vectors, dtype=np.float64)
        return np.atleast_2d(vectors).astype(np.float64) @ weights.T + np.asarray(self.bias)

    def probability(self, features: np.ndarray) -> np.ndarray:
        """P(addresses the area) for features of shape (patents × areas × AREA_FEATURES)."""
        shape = features.shape[:-1]
        flat = features.reshape(-1, features.shape[-1])
        return self.logistic.probability(flat).reshape(shape)

    def probability_for(self, retrieval: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        """(texts × areas) P(the text addresses the area): the one area probability, from the
        retrieval features (texts × areas × `AREA_FEATURES` but the last) and the texts' mean
        passage vectors."""
        supervised = self.supervised(vectors)
        return self.probability(np.concatenate([retrieval, supervised[:, :, None]], axis=2))
