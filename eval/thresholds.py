"""Choosing a decision threshold by F1: the one search behind every fitted threshold.

Bulk matching's area threshold (`eval.areas.best_threshold`, top-1 decisions per patent) and the
candidate model's capable level (`eval.confidence.capable_level`, one decision per pair) differ
only in how a threshold turns into decisions; both search here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable


def best_f1_threshold(
    candidates: Iterable[float], f1_at: Callable[[float], float]
) -> tuple[float, float]:
    """The candidate threshold with the highest `f1_at(threshold)` (the first such, in the order
    given), and that F1; (nan, -1) when there is no candidate."""
    best, best_f1 = float("nan"), -1.0
    for threshold in candidates:
        f1 = f1_at(float(threshold))
        if f1 > best_f1:
            best, best_f1 = float(threshold), f1
    return best, best_f1
