"""A logistic map over named features, fitted by scikit-learn and stored as plain numbers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel


class Logistic(BaseModel):
    """p = sigmoid(intercept + Σ coef_i · x_i), over the features named in `features`."""

    features: list[str]
    coef: list[float]
    intercept: float

    def probability(self, x: np.ndarray) -> np.ndarray:
        """P(positive) for each row of `x` (rows × features, in `features` order)."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        logit = np.clip(x @ np.asarray(self.coef) + self.intercept, -50.0, 50.0)
        return 1.0 / (1.0 + np.exp(-logit))


def fit_logistic(
    x: np.ndarray, y: Sequence[bool], features: Sequence[str], *, c: float = 1.0
) -> Logistic:
    """Maximum-likelihood (L2, strength `c` on standardised features) logistic regression.

    Features are standardised for the fit and the coefficients folded back, so the stored
    model applies to raw feature values.
    """
    from sklearn.linear_model import LogisticRegression

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=bool)
    if y.all() or not y.any():
        raise ValueError("a logistic fit needs both positive and negative examples")
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    model = LogisticRegression(C=c, max_iter=5000).fit((x - mean) / scale, y)
    coef = model.coef_[0] / scale
    intercept = float(model.intercept_[0] - coef @ mean)
    return Logistic(features=list(features), coef=coef.tolist(), intercept=intercept)
