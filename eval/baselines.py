"""The baselines every evaluation reports beside the engine, from the engine's own channel hits.

- `dense-max`: an organisation scores its best passage cosine (e5);
- `tfidf-max`: its best character 1–2-gram TF-IDF cosine;
- `z-fusion`: the two organisation scores, each standardised over all organisations of the
  query, added with equal weights (the "ten-line baseline" of the matching-quality issue).

They share the engine's retrieval (the same vectors, the same n-grams), so a difference from the
engine is the engine's fusion and aggregation, not a different index.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from matcher.fusion import ChannelScores

Baseline = Callable[
    [Mapping[str, ChannelScores], Mapping[int, str], Sequence[str]], dict[str, float]
]
BASELINES = ("dense-max", "tfidf-max", "z-fusion")


def best_per_group(hits: ChannelScores, group_of: Mapping[int, str]) -> dict[str, float]:
    """Each group's best raw passage score in one channel's `hits`."""
    best: dict[str, float] = {}
    for pid, score in zip(hits.pids.tolist(), hits.raw.tolist(), strict=True):
        group = group_of[pid]
        if score > best.get(group, -np.inf):
            best[group] = score
    return best


def baseline_scores(
    name: str,
    hits: Mapping[str, ChannelScores],
    group_of: Mapping[int, str],
    groups: Sequence[str],
) -> dict[str, float]:
    """Organisation scores of baseline `name` for one query (`groups`: every organisation)."""
    if name == "dense-max":
        return best_per_group(hits["dense"], group_of)
    if name == "tfidf-max":
        return best_per_group(hits["lexical"], group_of)
    if name == "z-fusion":
        total = np.zeros(len(groups))
        for channel in ("dense", "lexical"):
            best = best_per_group(hits[channel], group_of)
            floor = min(best.values(), default=0.0)
            values = np.array([best.get(g, floor) for g in groups])
            spread = values.std()
            total += (values - values.mean()) / spread if spread > 0 else 0.0
        return dict(zip(groups, total.tolist(), strict=True))
    raise ValueError(f"unknown baseline {name!r}; choose one of {', '.join(BASELINES)}")
