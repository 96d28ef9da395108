"""Calibrated confidence: a logistic map from an organisation's best cosine to P(relevant).

Raw e5 cosines are not probabilities (≈0.84 unrelated, ≈0.89 related), so a threshold on them
means nothing to a user. The parameters are fitted on labelled dev data by
`fit_calibrator` (see EVALUATION.md) and shipped in `matcher/data/calibration.json`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from pydantic import BaseModel

CALIBRATION_FILE = Path(__file__).parent / "data" / "calibration.json"


class Calibrator(BaseModel):
    """confidence = 1 / (1 + exp(-slope · (x − midpoint))).

    `input` names x: "cosine" (an organisation's best dense cosine) or "fused" (its best fused
    passage score); the engine feeds whichever the calibrator was fitted on.
    """

    slope: float
    midpoint: float
    input: str = "cosine"
    fitted_on: str = ""
    evidence: dict = {}

    def confidence(self, x: float) -> float:
        z = self.slope * (x - self.midpoint)
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


def fit_calibrator(
    cosines: Sequence[float], relevant: Sequence[bool], fitted_on: str, input: str = "cosine"
) -> Calibrator:
    """Fit the logistic map by maximum likelihood (scikit-learn) on labelled (x, relevant)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    x = np.asarray(cosines, dtype=np.float64).reshape(-1, 1)
    y = np.asarray(relevant, dtype=bool)
    if y.all() or not y.any():
        raise ValueError("calibration needs both relevant and non-relevant examples")
    model = LogisticRegression(C=1e6).fit(x, y)
    slope = float(model.coef_[0, 0])
    return Calibrator(
        slope=slope,
        midpoint=float(-model.intercept_[0] / slope),
        input=input,
        fitted_on=fitted_on,
    )


@cache
def default_calibrator() -> Calibrator:
    """The shipped calibration for the bundled model."""
    return Calibrator.model_validate(json.loads(CALIBRATION_FILE.read_text()))
