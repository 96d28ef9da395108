"""The hybrid component on crafted channel scores: fusion as configured, then per group."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.aggregate import Aggregation, AggregationConfig
from matcher.evidence import Passage
from matcher.fusion import ChannelScores, FusionConfig, FusionMode, Method
from matcher.hybrid import fuse_hits, rank_groups
from matcher.passage_groups import PassageGroups

# Channel scores over passage ids (ascending): raw, z, and the z of an unscored passage.
DENSE = ChannelScores(np.array([1, 2, 3]), np.array([0.9, 0.8, 0.7]), np.array([3.0, 2, 1]), 0.5)
LEXICAL = ChannelScores(np.array([1, 3]), np.array([0.2, 0.4]), np.array([2.0, 4.0]), -0.5)
HITS = {"dense": DENSE, "lexical": LEXICAL}


@pytest.mark.parametrize("rrf_k", [1, 60])
def test_rrf_uses_the_configured_rank_constant(rrf_k: int) -> None:
    fusion = FusionConfig(mode=FusionMode.rrf, weights={"dense": 0.5, "lexical": 0.5}, rrf_k=rrf_k)
    fused = fuse_hits(HITS, fusion)
    # Passage 1: dense rank 1, lexical rank 2; passage 2: dense rank 2 only.
    assert fused.pids.tolist() == [1, 2, 3]
    assert fused.scores[0] == pytest.approx(0.5 / (rrf_k + 1) + 0.5 / (rrf_k + 2))
    assert fused.scores[1] == pytest.approx(0.5 / (rrf_k + 2))
    assert fused.floor == 0.0


def test_a_single_channel_method_ignores_the_other_channel() -> None:
    fused = fuse_hits(HITS, FusionConfig(), Method.dense)
    assert fused.pids is DENSE.pids and fused.scores.tolist() == DENSE.z.tolist()
    assert set(fused.contributions) == {"dense"}
    assert fused.floor == DENSE.floor_z


def test_groups_rank_by_their_passages_best_first() -> None:
    fusion = FusionConfig(weights={"dense": 0.5, "lexical": 0.5})
    fused = fuse_hits(HITS, fusion)
    groups = PassageGroups()
    groups.add(
        [
            Passage(pid=pid, group=group, doc_id=f"{group}#{pid}", text="…", source="capability")
            for pid, group in [(1, "a"), (2, "b"), (3, "a")]
        ]
    )
    ranking = rank_groups(fused, groups, AggregationConfig(mode=Aggregation.max))
    # z-fusion: 1 → (3 + 2) / 2, 2 → (2 − 0.5) / 2, 3 → (1 + 4) / 2: a tie, the lower id first.
    assert ranking.scores == pytest.approx({"a": 2.5, "b": 0.75})
    assert ranking.passages("a", 5) == [1, 3] and ranking.passages("a", 1) == [1]
    assert ranking.passages("b", 5) == [2] and ranking.passages("c", 5) == []
    assert ranking.fused is fused and ranking.row(3) == 2
