"""Weighted fusion of the dense and sparse channels' scores for one query.

Raw scores are not comparable across channels (cosine ≈ 0.8–0.9, BM25 0–100+), so each channel
is first normalised over the candidates it retrieved, then the channels are mixed with weights
fitted on the dev sets (`matcher/data/fusion.json`, see EVALUATION.md). A candidate one channel
did not retrieve gets that channel's lowest normalised score (0 for rrf and minmax), so it is
neither rewarded nor thrown out; for BM25 that floor is a real score, 0.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TypeVar

import numpy as np
from pydantic import BaseModel, Field

from matcher.aggregate import Aggregation

FUSION_FILE = Path(__file__).parent / "data" / "fusion.json"

K = TypeVar("K", bound=Hashable)


class Method(StrEnum):
    """Which retrieval channels rank: dense only, BM25 only, or both fused."""

    dense = "dense"
    bm25 = "bm25"
    hybrid = "hybrid"

    @property
    def channels(self) -> tuple[str, ...]:
        return {"dense": ("dense",), "bm25": ("sparse",), "hybrid": ("dense", "sparse")}[self]

    @classmethod
    def from_str(cls, value: str) -> Method:
        try:
            return cls(value.strip().lower())
        except ValueError:
            options = ", ".join(m.value for m in cls)
            raise ValueError(f"unknown method '{value}'; choose one of {options}") from None


class FusionMode(StrEnum):
    """How one channel's scores are normalised before they are mixed."""

    rrf = "rrf"
    """Reciprocal rank: 1 / (rrf_k + rank); only the order counts (Cormack et al. 2009)."""
    zscore = "zscore"
    """(score − mean) / standard deviation over the channel's retrieved candidates."""
    minmax = "minmax"
    """(score − min) / (max − min) over the channel's retrieved candidates."""

    @classmethod
    def from_str(cls, value: str) -> FusionMode:
        try:
            return cls(value.strip().lower())
        except ValueError:
            options = ", ".join(m.value for m in cls)
            raise ValueError(f"unknown fusion mode '{value}'; choose one of {options}") from None


class FusionConfig(BaseModel):
    """Fusion mode, channel weights and evidence aggregation; shipped values are fitted on dev
    data (`matcher/data/fusion.json` records the numbers that chose them)."""

    mode: FusionMode = FusionMode.zscore
    weights: dict[str, float] = Field(default_factory=lambda: {"dense": 0.5, "sparse": 0.5})
    rrf_k: int = 60
    aggregation: Aggregation = Aggregation.max
    aggregation_params: dict[str, float] = Field(default_factory=dict)
    fitted_on: str = ""
    evidence: dict = Field(default_factory=dict, description="The measurements that decided.")


def normalise(scores: np.ndarray, mode: FusionMode, rrf_k: int = 60) -> np.ndarray:
    """One channel's scores mapped to a comparable scale (higher is better)."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.size == 0:
        return scores
    if mode is FusionMode.rrf:
        ranks = np.empty(scores.size, dtype=np.float64)
        ranks[np.argsort(-scores, kind="stable")] = np.arange(1, scores.size + 1)
        return 1.0 / (rrf_k + ranks)
    if mode is FusionMode.zscore:
        spread = scores.std()
        return (scores - scores.mean()) / spread if spread > 0 else np.zeros_like(scores)
    spread = scores.max() - scores.min()
    return (scores - scores.min()) / spread if spread > 0 else np.ones_like(scores)


def fuse(
    channels: Mapping[str, Mapping[K, float]],
    weights: Mapping[str, float],
    mode: FusionMode = FusionMode.zscore,
    rrf_k: int = 60,
    floors: Mapping[str, float] | None = None,
) -> tuple[dict[K, float], dict[str, dict[K, float]]]:
    """Weighted sum of normalised channel scores over the union of the channels' candidates.

    A candidate a channel did not retrieve is scored as `floors[channel]` (the raw score it
    would have had: 0 for BM25; default the channel's weakest retrieved score), normalised with
    the same statistics — so a channel that retrieved a single passage still lifts it above the
    rest. Returns the fused scores and, per channel, its weighted contributions (what
    explanations show). Channels missing from `weights` are ignored.
    """
    used = {name: hits for name, hits in channels.items() if weights.get(name, 0.0)}
    keys: list[K] = list(dict.fromkeys(key for hits in used.values() for key in hits))
    fused = dict.fromkeys(keys, 0.0)
    contributions: dict[str, dict[K, float]] = {}
    for name, hits in used.items():
        if not hits:  # the channel found nothing: it neither helps nor hurts anyone
            contributions[name] = dict.fromkeys(keys, 0.0)
            continue
        raw = np.fromiter(hits.values(), dtype=np.float64, count=len(hits))
        missing = 0.0
        if len(hits) < len(keys):
            floor = (floors or {}).get(name, float(raw.min()))
            values = normalise(np.append(raw, floor), mode, rrf_k)
            normalised = values[:-1]
            missing = 0.0 if mode is FusionMode.rrf else float(values[-1])
        else:
            normalised = normalise(raw, mode, rrf_k)
        by_key = dict(zip(hits, normalised.tolist(), strict=True))
        weight = weights[name]
        contribution = {key: weight * by_key.get(key, missing) for key in keys}
        for key, value in contribution.items():
            fused[key] += value
        contributions[name] = contribution
    return fused, contributions


@cache
def default_fusion() -> FusionConfig:
    """The shipped fusion settings, fitted on the dev sets."""
    return FusionConfig.model_validate(json.loads(FUSION_FILE.read_text()))
