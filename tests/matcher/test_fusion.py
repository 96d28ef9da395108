"""Fusion and aggregation on crafted score lists."""

from __future__ import annotations

import pytest

from matcher.aggregate import Aggregation, aggregate
from matcher.fusion import FusionMode, Method, default_fusion, fuse, normalise


def test_modes_parse_and_reject_unknown_names() -> None:
    assert FusionMode.from_str(" RRF ") is FusionMode.rrf
    assert Method.from_str("hybrid").channels == ("dense", "sparse")
    with pytest.raises(ValueError, match="zscore"):
        FusionMode.from_str("borda")


def test_normalisations() -> None:
    assert normalise([3.0, 1.0, 2.0], FusionMode.minmax).tolist() == [1.0, 0.0, 0.5]
    z = normalise([3.0, 1.0, 2.0], FusionMode.zscore)
    assert abs(z.mean()) < 1e-12 and abs(z.std() - 1) < 1e-12
    assert normalise([0.9, 0.1], FusionMode.rrf, rrf_k=60).tolist() == [1 / 61, 1 / 62]


@pytest.mark.parametrize("mode", list(FusionMode))
def test_weights_decide_between_channels_that_disagree(mode: FusionMode) -> None:
    # Dense prefers a, sparse prefers b; cosines and BM25 live on different scales.
    dense = {"a": 0.89, "b": 0.86, "c": 0.84}
    sparse = {"b": 40.0, "a": 5.0, "c": 1.0}
    channels = {"dense": dense, "sparse": sparse}
    dense_heavy, _ = fuse(channels, {"dense": 0.8, "sparse": 0.2}, mode)
    sparse_heavy, shares = fuse(channels, {"dense": 0.2, "sparse": 0.8}, mode)
    assert max(dense_heavy, key=dense_heavy.get) == "a"
    assert max(sparse_heavy, key=sparse_heavy.get) == "b"
    assert sparse_heavy["b"] == pytest.approx(shares["dense"]["b"] + shares["sparse"]["b"])


def test_a_passage_one_channel_missed_is_kept_at_that_channels_floor() -> None:
    fused, shares = fuse(
        {"dense": {"a": 0.9, "b": 0.8}, "sparse": {"b": 10.0, "c": 2.0}},
        {"dense": 0.5, "sparse": 0.5},
        FusionMode.minmax,
    )
    assert set(fused) == {"a", "b", "c"}
    assert shares["sparse"]["a"] == 0.0 and shares["dense"]["c"] == 0.0
    lone, _ = fuse(
        {"dense": {"a": 0.9, "b": 0.9}, "sparse": {"b": 3.0}},
        {"dense": 0.5, "sparse": 0.5},
        FusionMode.zscore,
        floors={"sparse": 0.0},
    )
    assert lone["b"] > lone["a"]  # a single BM25 hit still counts
    empty, _ = fuse({"dense": {"a": 0.9}, "sparse": {}}, {"dense": 0.5, "sparse": 0.5})
    assert set(empty) == {"a"}


def test_shipped_fusion_is_fitted_not_equal_weights() -> None:
    config = default_fusion()
    assert config.fitted_on and config.evidence
    assert config.weights["dense"] != config.weights["sparse"]


def _portfolio_hits() -> list[tuple[str, float]]:
    # One organisation with one excellent passage; another with many mediocre ones.
    return [("specialist", 3.0), ("specialist", 0.1)] + [("portfolio", 1.6)] * 40


@pytest.mark.parametrize("mode", [Aggregation.max, Aggregation.topk_decay, Aggregation.balog])
def test_one_excellent_passage_beats_a_large_mediocre_portfolio(mode: Aggregation) -> None:
    scores = aggregate(
        _portfolio_hits(), mode, docs_per_group={"specialist": 2, "portfolio": 300},
        **default_fusion().aggregation_params if mode is default_fusion().aggregation else {},
    )  # fmt: skip
    assert max(scores, key=scores.get) == "specialist"


def test_combmnz_rewards_portfolio_mass_which_is_why_it_is_not_shipped() -> None:
    scores = aggregate(_portfolio_hits(), Aggregation.combmnz)
    assert max(scores, key=scores.get) == "portfolio"
    assert default_fusion().aggregation is not Aggregation.combmnz


def test_depth_breaks_ties_of_the_best_passage_under_topk_decay() -> None:
    hits = [("deep", 2.0), ("deep", 1.5), ("shallow", 2.0), ("shallow", 0.0)]
    scores = aggregate(hits, Aggregation.topk_decay, k=3, decay=0.5)
    assert scores["deep"] > scores["shallow"]
    assert aggregate(hits, Aggregation.max)["deep"] == aggregate(hits, Aggregation.max)["shallow"]


def test_balog_needs_the_portfolio_sizes() -> None:
    with pytest.raises(ValueError, match="docs_per_group"):
        aggregate([("a", 1.0)], Aggregation.balog)
