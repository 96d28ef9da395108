"""A logistic map over named features, fitted by scikit-learn and stored as plain numbers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel


class Logistic(BaseModel):
    """p = sigmoid(intercept + Σ coef_i · x_i), over the features named in `features`.

    `scale` is each feature's standard deviation in the data it was fitted on: the unit in
    which a refit measures how far it moves a coefficient (`fit_logistic_with_prior`).
    """

    features: list[str]
    coef: list[float]
    intercept: float
    scale: list[float] | None = None

    def probability(self, x: np.ndarray) -> np.ndarray:
        """P(positive) for each row of `x` (rows × features, in `features` order)."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        logit = np.clip(x @ np.asarray(self.coef) + self.intercept, -50.0, 50.0)
        return 1.0 / (1.0 + np.exp(-logit))


def fit_logistic(
    x: np.ndarray, y: Sequence[bool] | np.ndarray, features: Sequence[str], *, c: float = 1.0
) -> Logistic:
    """Maximum-likelihood (L2, strength `c` on standardised features) logistic regression.

    Features are standardised for the fit and the coefficients folded back, so the stored
    model applies to raw feature values.
    """
    from sklearn.linear_model import LogisticRegression

    x = np.asarray(x, dtype=np.float64)
    labels = np.asarray(y, dtype=bool)
    if labels.all() or not labels.any():
        raise ValueError("a logistic fit needs both positive and negative examples")
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    model = LogisticRegression(C=c, max_iter=5000).fit((x - mean) / scale, labels)
    coef = model.coef_[0] / scale
    intercept = float(model.intercept_[0] - coef @ mean)
    return Logistic(
        features=list(features), coef=coef.tolist(), intercept=intercept, scale=scale.tolist()
    )


def fit_logistic_with_prior(
    x: np.ndarray,
    y: Sequence[bool] | np.ndarray,
    prior: Logistic,
    *,
    strength: float,
    intercept_strength: float = 1.0,
) -> Logistic:
    """The maximum a posteriori logistic model under a Gaussian prior centred on `prior`.

    Coordinates are standardised (each coefficient times its feature's deviation in the data
    the prior was fitted on, `prior.scale`, else in `x`; the intercept as the logit at the mean
    of `x`), and the prior's precision is `strength` on every coefficient and
    `intercept_strength` (weak: one pseudo-example) on the intercept, because what shifts
    between programmes is mostly how often their assessors call a candidate capable, not what
    evidence says so: a handful of examples moves the model a little, many move it far. The
    prior's scales matter: judgments from a few challenges barely vary a query-level feature,
    and scaled by that variation a small move would be a huge one elsewhere. One class alone is
    allowed (the prior keeps the other in view).
    """
    from scipy.optimize import minimize

    x = np.asarray(x, dtype=np.float64)
    labels = np.asarray(y, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = np.asarray(prior.scale, dtype=np.float64) if prior.scale else x.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    z = (x - mean) / scale
    w0 = np.asarray(prior.coef, dtype=np.float64)
    centre = np.concatenate([[prior.intercept + w0 @ mean], w0 * scale])

    precision = np.concatenate([[intercept_strength], np.full(len(w0), strength)])

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        logit = theta[0] + z @ theta[1:]
        p = 1.0 / (1.0 + np.exp(-np.clip(logit, -50, 50)))
        nll = np.logaddexp(0.0, logit).sum() - labels @ logit
        residual = theta - centre
        gradient = np.concatenate([[(p - labels).sum()], z.T @ (p - labels)])
        gradient += precision * residual
        return float(nll + 0.5 * residual @ (precision * residual)), gradient

    theta = minimize(objective, centre, jac=True, method="L-BFGS-B").x
    coef = theta[1:] / scale
    return Logistic(
        features=list(prior.features),
        coef=coef.tolist(),
        intercept=float(theta[0] - coef @ mean),
        scale=scale.tolist(),
    )
