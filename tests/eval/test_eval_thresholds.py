"""Threshold search and the area model's fit, on small synthetic data."""

from __future__ import annotations

import math

import numpy as np
import pytest

from eval.areas import AREAS, best_threshold, decide, fit_area_model, prf
from eval.confidence import capable_level
from eval.thresholds import best_f1_threshold
from matcher.calibration import AREA_FEATURES


def test_the_search_keeps_the_first_of_equally_good_thresholds() -> None:
    f1 = {0.2: 0.5, 0.4: 0.8, 0.6: 0.8, 0.8: 0.1}
    assert best_f1_threshold(f1, f1.__getitem__) == (0.4, 0.8)
    threshold, score = best_f1_threshold([], lambda t: 1.0)
    assert math.isnan(threshold) and score == -1.0


def test_the_capable_level_separates_capable_pairs_from_the_rest() -> None:
    rng = np.random.default_rng(0)
    outcome = rng.random(400) < 0.3
    # Capable pairs above 0.55, the rest below 0.45: every level in between is perfect.
    confidence = np.where(outcome, rng.uniform(0.55, 1.0, 400), rng.uniform(0.0, 0.45, 400))
    assert capable_level(confidence, outcome) == pytest.approx(0.45)
    # No level makes a right call: the neutral 0.5.
    assert capable_level(np.full(10, 0.05), np.ones(10, dtype=bool)) == 0.5


def test_the_top1_threshold_is_the_lowest_with_the_best_f1() -> None:
    scores = np.array([[0.9, 0.1], [0.2, 0.7], [0.3, 0.1], [0.1, 0.25]])
    gold = np.array([[True, False], [False, True], [False, False], [False, False]])
    threshold, metrics = best_threshold(scores, gold)
    assert threshold == pytest.approx(0.7)  # 0.3 would also report the third patent
    assert (
        metrics
        == prf(decide(scores, threshold), gold)
        == {
            "f1": 1.0,
            "precision": 1.0,
            "recall": 1.0,
        }
    )


def synthetic_patents(n: int = 300, dim: int = 8, seed: int = 0):
    """Patents addressing at most one area, told apart by their vector's direction."""
    rng = np.random.default_rng(seed)
    areas = len(AREAS)
    labelled = 3  # the other areas have no labelled patent
    area = rng.integers(-1, labelled, n)  # −1: no area
    directions = rng.normal(size=(labelled, dim))
    vectors = rng.normal(scale=0.3, size=(n, dim))
    gold = np.zeros((n, areas), dtype=bool)
    for i, a in enumerate(area):
        if a >= 0:
            vectors[i] += directions[a]
            gold[i, a] = True
    features = rng.normal(size=(n, areas, len(AREA_FEATURES) - 1))
    features[gold, 0] += 1.0  # retrieval helps a little
    return features, vectors, gold


def test_the_area_model_learns_directions_and_its_threshold_decides_well() -> None:
    features, vectors, gold = synthetic_patents()
    model = fit_area_model(features, vectors, gold, c=1.0)
    assert 0.0 <= model.threshold <= 1.0
    probability = model.probability_for(features, vectors)
    assert probability.shape == gold.shape
    assert prf(decide(probability, model.threshold), gold)["f1"] > 0.9
    # An area no labelled patent addresses is ruled out.
    assert probability[:, 5].max() < 0.01
    # Held-out patents are decided nearly as well (each fold at its own threshold).
    train, test = slice(0, 200), slice(200, None)
    held_out = fit_area_model(features[train], vectors[train], gold[train], c=1.0)
    decided = decide(held_out.probability_for(features[test], vectors[test]), held_out.threshold)
    assert prf(decided, gold[test])["f1"] > 0.85
