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
    """One channel's passages for one query, as arrays over `pids` (ascending).

    `raw` are the channel's own scores (cosine, TF-IDF cosine: what explanations show), `z` the
    same standardised against the query's background (`background`: its mean and standard
    deviation there), `floor_z` the z of a passage the channel did not score.
    """

    pids: np.ndarray
    raw: np.ndarray
    z: np.ndarray
    floor_z: float
    background: tuple[float, float] = (0.0, 0.0)

    @classmethod
    def empty(cls) -> ChannelScores:
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0), 0.0)

    def raw_of(self, pid: int) -> float | None:
        """The raw score of passage `pid`, None when the channel did not score it."""
        row = int(np.searchsorted(self.pids, pid))
        return float(self.raw[row]) if row < len(self.pids) and self.pids[row] == pid else None


@dataclass(frozen=True)
class Fused:
    """A query's passages fused, as arrays over `pids` (ascending): the score of each, each
    channel's weighted contribution to it (what explanations show), and the fused score of a
    passage no channel retrieved."""

    pids: np.ndarray
    scores: np.ndarray
    contributions: dict[str, np.ndarray]
    floor: float


def fuse(
    channels: Mapping[str, ChannelScores],
    weights: Mapping[str, float],
    mode: FusionMode = FusionMode.zscore,
    rrf_k: int = 60,
) -> Fused:
    """Weighted sum of normalised channel scores over the union of the channels' passages.

    Channels without weight are ignored; a passage a channel did not score gets its floor.
    """
    used = {name: hits for name, hits in channels.items() if weights.get(name, 0.0)}
    pids = _union([hits.pids for hits in used.values()])
    fused = np.zeros(len(pids))
    contributions: dict[str, np.ndarray] = {}
    floor = 0.0
    for name, hits in used.items():
        weight = weights[name]
        normalised, missing = _normalise(hits, mode, rrf_k)
        if hits.pids is not pids:
            spread = np.full(len(pids), missing)
            spread[np.searchsorted(pids, hits.pids)] = normalised
            normalised = spread
        contributions[name] = weight * normalised
        fused += contributions[name]
        floor += weight * missing
    return Fused(pids, fused, contributions, floor)


def _union(pids: list[np.ndarray]) -> np.ndarray:
    """The ascending union; the engine's channels score the same passages, kept as they are."""
    if not pids:
        return np.zeros(0, dtype=np.int64)
    if all(p is pids[0] for p in pids):
        return pids[0]
    return np.unique(np.concatenate(pids))


def _normalise(hits: ChannelScores, mode: FusionMode, rrf_k: int) -> tuple[np.ndarray, float]:
    """Normalised scores of the channel's passages, and the value of an unscored one."""
    if mode is FusionMode.zscore:
        return hits.z, hits.floor_z
    raw = hits.raw
    if not len(raw):
        return raw, 0.0
    if mode is FusionMode.rrf:
        ranks = np.empty(len(raw))
        ranks[np.argsort(-raw, kind="stable")] = np.arange(1, len(raw) + 1)
        return 1.0 / (rrf_k + ranks), 0.0
    spread = raw.max() - raw.min()
    return ((raw - raw.min()) / spread if spread > 0 else np.ones_like(raw)), 0.0


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
