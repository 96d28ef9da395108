"""The hybrid component on crafted channel scores: fusion as configured, then per group."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.aggregate import Aggregation, AggregationConfig
from matcher.fusion import ChannelScores, FusionConfig, FusionMode, Method
from matcher.hybrid import fuse_hits, rank_groups

DENSE = ChannelScores({1: 0.9, 2: 0.8, 3: 0.7}, {1: 3.0, 2: 2.0, 3: 1.0}, 0.5)
LEXICAL = ChannelScores({3: 0.4, 1: 0.2}, {3: 4.0, 1: 2.0}, -0.5)
HITS = {"dense": DENSE, "lexical": LEXICAL}


@pytest.mark.parametrize("rrf_k", [1, 60])
def test_rrf_uses_the_configured_rank_constant(rrf_k: int) -> None:
    fusion = FusionConfig(mode=FusionMode.rrf, weights={"dense": 0.5, "lexical": 0.5}, rrf_k=rrf_k)
    fused = fuse_hits(HITS, fusion)
    # Passage 1: dense rank 1, lexical rank 2; passage 2: dense rank 2 only.
    assert fused.scores[1] == pytest.approx(0.5 / (rrf_k + 1) + 0.5 / (rrf_k + 2))
    assert fused.scores[2] == pytest.approx(0.5 / (rrf_k + 2))
    assert fused.floor == 0.0


def test_a_single_channel_method_ignores_the_other_channel() -> None:
    fused = fuse_hits(HITS, FusionConfig(), Method.dense)
    assert fused.scores == DENSE.z
    assert set(fused.contributions) == {"dense"}
    assert fused.floor == DENSE.floor_z


def test_groups_rank_by_their_passages_best_first() -> None:
    fusion = FusionConfig(weights={"dense": 0.5, "lexical": 0.5})
    fused = fuse_hits(HITS, fusion)
    owners = np.array([None, "a", "b", "a"], dtype=object)
    ranking = rank_groups(fused, owners, AggregationConfig(mode=Aggregation.max), {"a": 2, "b": 1})
    # z-fusion: 1 → (3 + 2) / 2, 2 → (2 − 0.5) / 2, 3 → (1 + 4) / 2.
    assert ranking.scores == pytest.approx({"a": 2.5, "b": 0.75})
    assert ranking.by_group == {"a": [1, 3], "b": [2]}
    assert ranking.fused is fused.scores and ranking.floor == fused.floor
