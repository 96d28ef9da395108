"""Calibrated confidence: a logistic map from one feature of an organisation to P(relevant).

Raw e5 cosines are not probabilities (≈0.84 unrelated, ≈0.89 related), and their level depends
on the task: patent→patent cosines run higher than challenge→capability ones. So the feature
can be query-relative: "cosine_z" is the organisation's best dense cosine in standard
deviations above the mean of every dense cosine the engine retrieved for that query
(`calibration_feature`). The parameters are fitted on labelled dev data by `fit_calibrator`
(see EVALUATION.md, "Calibration") and shipped in `matcher/data/calibration.json`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np
from pydantic import BaseModel

CALIBRATION_FILE = Path(__file__).parent / "data" / "calibration.json"
# Below this spread the query's cosines carry no ranking signal: every organisation scores z = 0.
MIN_SPREAD = 1e-6
INPUTS = {
    "cosine": "the organisation's best dense cosine",
    "cosine_z": "its best dense cosine, standardised over all the query's retrieved dense cosines",
    "fused": "its best fused passage score",
}


# An organisation "covers" a requirement when its calibrated confidence beats the dev set's base
# rate of relevance among top-10 candidates (patents-applicant: 122 of 2,120 = 0.0575): evidence
# better than chance. Teams (gaps) and the roadmap (strong matches) use it as their default.
COVERED_CONFIDENCE = 0.06


class Calibrator(BaseModel):
    """confidence = 1 / (1 + exp(-slope · (x − midpoint))).

    `input` names x (see `INPUTS`); the engine feeds whichever the calibrator was fitted on.
    """

    slope: float
    midpoint: float
    input: str = "cosine_z"
    fitted_on: str = ""
    evidence: dict = {}

    def confidence(self, x: float | np.ndarray) -> float | np.ndarray:
        """P(relevant) for one feature value, or elementwise for an array of them."""
        z = np.clip(self.slope * (np.asarray(x, dtype=np.float64) - self.midpoint), -50.0, 50.0)
        p = 1.0 / (1.0 + np.exp(-z))
        return float(p) if p.ndim == 0 else p


def calibration_feature(
    input: str, best_cosine: float | np.ndarray, query_cosines: np.ndarray
) -> float | np.ndarray:
    """The calibrator's x for organisations from their best cosine and the query's cosines.

    "cosine" is `best_cosine` itself; "cosine_z" is (best − mean) / std over `query_cosines`
    (every dense hit the engine retrieved for the query), 0 when they do not spread.
    `best_cosine` may be one value or an array (one per organisation); the query's statistics
    are computed once either way.
    """
    if input == "cosine":
        return best_cosine
    if input != "cosine_z":
        raise ValueError(f"no cosine feature named {input!r}")
    spread = float(query_cosines.std()) if len(query_cosines) else 0.0
    if spread < MIN_SPREAD:
        return np.zeros_like(best_cosine) if isinstance(best_cosine, np.ndarray) else 0.0
    return (best_cosine - float(query_cosines.mean())) / spread


def fit_calibrator(
    features: Sequence[float], relevant: Sequence[bool], fitted_on: str, input: str = "cosine_z"
) -> Calibrator:
    """Fit the logistic map by maximum likelihood (scikit-learn) on labelled (x, relevant)."""
    from sklearn.linear_model import LogisticRegression

    if input not in INPUTS:
        raise ValueError(f"unknown calibration input {input!r}; choose one of {sorted(INPUTS)}")
    x = np.asarray(features, dtype=np.float64).reshape(-1, 1)
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
