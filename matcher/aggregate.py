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
    sizes: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Combine passage scores (group code `groups[i]` owns `scores[i]`) into a score per group.

    Returns the codes present (ascending) and their scores. `floor` is the score of a passage
    no channel retrieved and `sizes[code]` the number of passages a group owns; `balog` needs
    both.
    """
    if not len(scores):
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    groups = np.asarray(groups, dtype=np.int64)
    scores = np.asarray(scores, dtype=np.float64)
    counts = np.bincount(groups)
    present = np.flatnonzero(counts)
    mode = config.mode
    if mode is Aggregation.max:
        totals = np.full(len(counts), -np.inf)
        np.maximum.at(totals, groups, scores)
    elif mode is Aggregation.topk_decay:
        k, decay = int(config.params.get("k", 2)), float(config.params.get("decay", 0.2))
        # The k best of each group in k rounds, each taking the best left and setting one
        # passage that has it aside: sorting every reached passage by group took longer.
        powers = decay ** np.arange(k, dtype=np.float64)
        left = scores.copy()
        totals = np.zeros(len(counts))
        for r in range(k):
            best = np.full(len(counts), -np.inf)
            np.maximum.at(best, groups, left)
            totals += (best if r == 0 else np.maximum(best, 0.0)) * powers[r]
            at_best = np.flatnonzero(left == best[groups])
            first = np.full(len(counts), len(left))
            np.minimum.at(first, groups[at_best], at_best)
            left[first[first < len(left)]] = -np.inf
    else:
        if sizes is None:
            raise ValueError("balog aggregation needs the groups' sizes")
        tau = float(config.params.get("temperature", 2.0))
        owned = np.maximum(sizes[: len(counts)], counts).astype(np.float64)
        # log-mean-exp, shifted by each group's best so exp never overflows.
        best = np.full(len(counts), -np.inf)
        np.maximum.at(best, groups, scores)
        top = np.maximum(best, floor)
        shares = np.exp((scores - top[groups]) / tau)
        mass = np.bincount(groups, weights=shares, minlength=len(counts))
        with np.errstate(divide="ignore", invalid="ignore"):  # the codes absent are dropped
            mass += (owned - counts) * np.exp((floor - top) / tau)
            totals = top + tau * np.log(mass / owned)
    return present, totals[present]
