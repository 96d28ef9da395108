"""The code that fits and measures the shipped confidence, on small synthetic data."""

from __future__ import annotations

import numpy as np
import pytest

from corpus.errors import JiebangError
from eval import confidence as conf


def synthetic(n_queries: int = 40, orgs: int = 30, seed: int = 0, sign: float = 1.0):
    """Queries whose organisations are capable with probability sigmoid(2·score − 4)."""
    rng = np.random.default_rng(seed)
    scored, qrels = {}, {}
    for q in range(n_queries):
        scores = np.sort(rng.normal(1.5, 1.5, orgs))[::-1]
        names = [f"o{q}-{i}" for i in range(orgs)]
        capable = rng.random(orgs) < 1 / (1 + np.exp(-sign * (2 * scores - 4)))
        features = {
            "score": scores,
            "dense_mean": np.full(orgs, 0.8 + 0.01 * rng.normal()),
            "dense_std": np.full(orgs, 0.02),
        }
        scored[f"q{q}"] = conf.ScoredQuery(conf.Variant(names, features), [])
        qrels[f"q{q}"] = {n: int(c) for n, c in zip(names, capable, strict=True)}
    return scored, qrels


def test_a_fitted_model_recovers_the_truth_and_rises_with_the_score():
    scored, qrels = synthetic(n_queries=120)
    model = conf.fit_model(scored, qrels, scored, ["score"])
    assert model.logistic.coef[0] == pytest.approx(2.0, rel=0.25)
    assert model.logistic.intercept == pytest.approx(-4.0, rel=0.25)


def test_a_model_falling_with_the_score_is_refused():
    scored, qrels = synthetic(sign=-1.0)
    with pytest.raises(JiebangError, match="does not rise with the ranking score"):
        conf.fit_model(scored, qrels, scored, ["score"])


def test_cross_validated_confidences_are_calibrated_and_ordered():
    scored, qrels = synthetic(n_queries=100)
    confidence = conf.cross_validated(scored, qrels, conf.folds(scored, 5, 0), ["score"])
    assert set(confidence) == set(scored)
    run = conf.ordered_run(confidence, scored)
    for qid, ranking in run.items():
        values = [confidence[qid][org] for org in ranking]
        assert values == sorted(values, reverse=True)
    report = conf.calibration_report(conf.shown_pairs(run, confidence, qrels))
    assert report["ece"] < 0.08 and report["pairs"] == 1000


def test_a_facet_lifts_an_organisation_to_its_best_confidence():
    scored, qrels = synthetic(n_queries=80)
    model = conf.fit_model(scored, qrels, scored, ["score"])
    whole = conf.Variant(["a", "b"], {"score": np.array([1.0, 0.0])})
    facet = conf.Variant(["b", "c"], {"score": np.array([4.0, 3.0])})
    query = conf.ScoredQuery(whole, [facet])
    with_facets, without = query.confidence(model), query.confidence(model, facets=False)
    assert set(with_facets) == {"a", "b", "c"} and set(without) == {"a", "b"}
    assert with_facets["b"] > without["b"] and with_facets["a"] == without["a"]


def test_expected_calibration_error_by_hand():
    confidence = np.array([0.05, 0.05, 0.95, 0.95])
    outcome = np.array([False, True, True, True])
    # bin 0: mean 0.05, rate 0.5 → 0.45 × ½; bin 9: 0.95 vs 1 → 0.05 × ½
    assert conf.expected_calibration_error(confidence, outcome) == pytest.approx(0.25)


def test_composites_join_titles_of_one_domain_and_take_the_best_grade():
    texts = {"a": "钒电池储能材料：说明", "b": "碳化硅衬底", "c": "光刻胶", "d": "锂电回收"}
    qrels = {"a": {"x": 2, "y": 0}, "b": {"y": 1}, "c": {"z": 1}, "d": {"x": 1}}
    domains = {"a": "能源", "b": "能源", "c": "芯片", "d": "能源"}
    splits = [(["c"], ["a", "b", "d"]), (["a", "b", "d"], ["c"])]
    made, grades, parts = conf.composite_queries(texts, qrels, domains, splits, size=3)
    assert made == {"C:a+b+d": "钒电池储能材料、碳化硅衬底、锂电回收"}
    assert grades["C:a+b+d"] == {"x": 2, "y": 1}
    assert parts["C:a+b+d"] == ("a", "b", "d")


def test_leaving_one_group_out_holds_each_group_out_once():
    splits = conf.by_group(["q1", "q2", "q3"], {"q1": "A", "q2": "B", "q3": "A"}.__getitem__)
    assert splits == [(["q2"], ["q1", "q3"]), (["q1", "q3"], ["q2"])]
