"""Weighted fusion of the dense and lexical channels' passage scores for one query.

Raw scores are not comparable across channels (e5 cosine ≈ 0.8–0.9, TF-IDF cosine 0–1 and
mostly near 0), so each channel is normalised first. The shipped mode, `zscore`, standardises a
passage's score by the mean and standard deviation of the query's scores over a background
(`ChannelScores.background`: a fixed reference corpus for evidence, `embed.background`; the
index itself for the fixed catalogue), so a z of 3 means the same "three deviations above this
query's background" in both channels and whatever was retrieved. A passage a channel did not
score gets that channel's `floor`.
`minmax` and `rrf` normalise over the retrieved passages only; they are kept for measurement
(`jiebang eval tune` compares all three; EVALUATION.md records the numbers that chose zscore).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from pydantic import BaseModel, Field


class Method(StrEnum):
    """Which retrieval channels rank: dense only, lexical only, or both fused (hybrid)."""

    dense = "dense"
    lexical = "lexical"
    hybrid = "hybrid"

    @property
    def channels(self) -> tuple[str, ...]:
        return {"dense": ("dense",), "lexical": ("lexical",), "hybrid": ("dense", "lexical")}[self]

    @classmethod
    def from_str(cls, value: str) -> Method:
        try:
            return cls(value.strip().lower())
        except ValueError:
            options = ", ".join(m.value for m in cls)
            raise ValueError(f"unknown method '{value}'; choose one of {options}") from None


class FusionMode(StrEnum):
    """How one channel's scores are normalised before they are mixed."""

    zscore = "zscore"
    """(score − mean) / std of the query's scores over the whole index."""
    minmax = "minmax"
    """(score − min) / (max − min) over the channel's retrieved passages."""
    rrf = "rrf"
    """Reciprocal rank 1 / (rrf_k + rank) (Cormack et al. 2009); only the order counts."""

    @classmethod
    def from_str(cls, value: str) -> FusionMode:
        try:
            return cls(value.strip().lower())
        except ValueError:
            options = ", ".join(m.value for m in cls)
            raise ValueError(f"unknown fusion mode '{value}'; choose one of {options}") from None


@dataclass(frozen=True)
class ChannelScores:
    """One channel's passages for one query.

    `raw` are the channel's own scores (cosine, TF-IDF cosine: what explanations show), `z` the
    same standardised against the query's background (`background`: its mean and standard
    deviation there), `floor_z` the z of a passage the channel did not score.
    """

    raw: dict[int, float]
    z: dict[int, float]
    floor_z: float
    background: tuple[float, float] = (0.0, 0.0)

    @classmethod
    def empty(cls) -> ChannelScores:
        return cls({}, {}, 0.0)


def fuse(
    channels: Mapping[str, ChannelScores],
    weights: Mapping[str, float],
    mode: FusionMode = FusionMode.zscore,
    rrf_k: int = 60,
) -> tuple[dict[int, float], dict[str, dict[int, float]], float]:
    """Weighted sum of normalised channel scores over the union of the channels' passages.

    Returns the fused score per passage, each channel's weighted contribution per passage
    (what explanations show), and the fused score of a passage no channel retrieved (the floor
    aggregation gives an organisation's unretrieved evidence). Channels without weight are
    ignored.
    """
    used = {name: hits for name, hits in channels.items() if weights.get(name, 0.0)}
    keys = list(dict.fromkeys(pid for hits in used.values() for pid in hits.raw))
    fused = dict.fromkeys(keys, 0.0)
    contributions: dict[str, dict[int, float]] = {}
    floor = 0.0
    for name, hits in used.items():
        weight = weights[name]
        normalised, missing = _normalise(hits, mode, rrf_k)
        contribution = {pid: weight * normalised.get(pid, missing) for pid in keys}
        for pid, value in contribution.items():
            fused[pid] += value
        contributions[name] = contribution
        floor += weight * missing
    return fused, contributions, floor


def _normalise(hits: ChannelScores, mode: FusionMode, rrf_k: int) -> tuple[dict[int, float], float]:
    """Normalised scores of the retrieved passages, and the value of an unretrieved one."""
    if mode is FusionMode.zscore:
        return hits.z, hits.floor_z
    if not hits.raw:
        return {}, 0.0
    pids = list(hits.raw)
    raw = np.fromiter(hits.raw.values(), dtype=np.float64, count=len(pids))
    if mode is FusionMode.rrf:
        ranks = np.empty(len(raw))
        ranks[np.argsort(-raw, kind="stable")] = np.arange(1, len(raw) + 1)
        return dict(zip(pids, (1.0 / (rrf_k + ranks)).tolist(), strict=True)), 0.0
    spread = raw.max() - raw.min()
    values = (raw - raw.min()) / spread if spread > 0 else np.ones_like(raw)
    return dict(zip(pids, values.tolist(), strict=True)), 0.0


class FusionConfig(BaseModel):
    """Fusion mode and channel weights (fitted per model: see `matcher.calibration`)."""

    mode: FusionMode = FusionMode.zscore
    weights: dict[str, float] = Field(default_factory=lambda: {"dense": 0.7, "lexical": 0.3})
    rrf_k: int = 60

    def weights_for(self, method: Method) -> dict[str, float]:
        """The weights of `method`'s channels; a single channel counts whole."""
        if len(method.channels) == 1:
            return {method.channels[0]: 1.0}
        return {name: self.weights.get(name, 0.0) for name in method.channels}
