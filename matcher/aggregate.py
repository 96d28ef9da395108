"""Evidence hits → one score per organisation. This is where a passage's match becomes a rank.

Scores are fused passage scores in z-units (deviations above the query's background over the
whole index), so 0 is "no better than a typical passage". Modes:

- `max`: the best passage.
- `topk_decay`: the best passage plus decay^r times each next one's positive part, r = 1 … k−1.
  Rewards a second matching patent without letting a big portfolio of weak ones add up; this is
  what ranks organisations for a challenge (challenge-org, EVALUATION.md).
- `balog`: τ · log(mean over *all* the organisation's passages of exp(z/τ)) (Balog et al. 2006,
  in log form): unretrieved passages count at the floor, so unrelated portfolio mass dilutes the
  score. This ranks applicants for a whole-patent query (patents-applicant).

`AggregationConfig` names a mode and its parameters; the engine picks one per query length
(`matcher.calibration.RankingConfig`).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

import numpy as np
from pydantic import BaseModel, Field


class Aggregation(StrEnum):
    """How an organisation's passage scores combine."""

    max = "max"
    topk_decay = "topk_decay"
    balog = "balog"

    @classmethod
    def from_str(cls, value: str) -> Aggregation:
        try:
            return cls(value.strip().lower())
        except ValueError:
            options = ", ".join(m.value for m in cls)
            raise ValueError(f"unknown aggregation '{value}'; choose one of {options}") from None


class AggregationConfig(BaseModel):
    """An aggregation mode with its parameters (k, decay for topk_decay; temperature for balog)."""

    mode: Aggregation = Aggregation.max
    params: dict[str, float] = Field(default_factory=dict)


def aggregate(
    groups: np.ndarray,
    scores: np.ndarray,
    config: AggregationConfig,
    *,
    floor: float = 0.0,
    docs_per_group: Mapping[str, int] | None = None,
) -> dict[str, float]:
    """Combine passage scores (`groups[i]` owns `scores[i]`) into a score per group.

    `floor` is the score of a passage no channel retrieved and `docs_per_group` the number of
    passages each group owns; `balog` needs both.
    """
    if not len(scores):
        return {}
    names, codes = np.unique(groups, return_inverse=True)
    scores = np.asarray(scores, dtype=np.float64)
    counts = np.bincount(codes, minlength=len(names))
    mode = config.mode
    if mode is Aggregation.max:
        totals = np.full(len(names), -np.inf)
        np.maximum.at(totals, codes, scores)
    elif mode is Aggregation.topk_decay:
        k, decay = int(config.params.get("k", 2)), float(config.params.get("decay", 0.2))
        # Sort by group, best first within it; each hit's rank inside its group sets its weight.
        order = np.lexsort((-scores, codes))
        starts = np.cumsum(counts) - counts
        rank = np.arange(len(order)) - starts[codes[order]]
        ordered = scores[order]
        value = np.where(rank == 0, ordered, np.maximum(ordered, 0.0))
        weights = np.where(rank < k, decay ** rank.astype(np.float64), 0.0)
        totals = np.bincount(codes[order], weights=value * weights, minlength=len(names))
    else:
        if docs_per_group is None:
            raise ValueError("balog aggregation needs docs_per_group")
        tau = float(config.params.get("temperature", 2.0))
        owned = np.array(
            [
                max(docs_per_group.get(g, int(n)), int(n))
                for g, n in zip(names.tolist(), counts, strict=True)
            ],
            dtype=np.float64,
        )
        # log-mean-exp, shifted by each group's best so exp never overflows.
        best = np.full(len(names), -np.inf)
        np.maximum.at(best, codes, scores)
        top = np.maximum(best, floor)
        mass = np.bincount(codes, weights=np.exp((scores - top[codes]) / tau), minlength=len(names))
        mass += (owned - counts) * np.exp((floor - top) / tau)
        totals = top + tau * np.log(mass / owned)
    return dict(zip(names.tolist(), totals.tolist(), strict=True))
