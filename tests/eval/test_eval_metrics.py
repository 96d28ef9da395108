"""Metrics through ranx agree with hand computation; intervals and paired tests behave."""

import math

import numpy as np
import pytest
from scipy.stats import ttest_rel

from corpus.errors import JiebangError
from eval.metrics import bootstrap_ci, evaluate, paired_p_values, per_query, ranx_name

# q1 judges d1 (2) and d2 (1); d3 is judged non-relevant. The run puts d2 first and d1 third.
# q2 has one relevant document, d5, ranked third. q3 has no relevant document: not averaged.
QRELS = {"q1": {"d1": 2, "d2": 1, "d3": 0}, "q2": {"d5": 1}, "q3": {"d9": 0}}
RUN = {
    "q1": {"d2": 0.9, "d4": 0.8, "d1": 0.7, "d3": 0.6},
    "q2": {"d6": 0.5, "d7": 0.4, "d5": 0.3},
}


def test_metrics_match_hand_computation():
    # nDCG with linear gains: DCG = Σ rel / log2(rank + 1), ideal order d1, d2.
    ndcg_q1 = (1 / math.log2(2) + 2 / math.log2(4)) / (2 / math.log2(2) + 1 / math.log2(3))
    ndcg_q2 = (1 / math.log2(4)) / (1 / math.log2(2))
    expected = {
        "ndcg@10": (ndcg_q1 + ndcg_q2) / 2,
        "mrr@10": (1 / 1 + 1 / 3) / 2,
        "p@2": (1 / 2 + 0 / 2) / 2,
        "precision@3": (2 / 3 + 1 / 3) / 2,
        "recall@2": (1 / 2 + 0 / 1) / 2,
        "recall@3": (2 / 2 + 1 / 1) / 2,
        "map": ((1 / 1 + 2 / 3) / 2 + (1 / 3) / 1) / 2,
        "hit@1": (1 + 0) / 2,
        "hit@5": (1 + 1) / 2,
    }
    assert evaluate(QRELS, RUN, list(expected)) == pytest.approx(expected)


def test_per_query_scores_and_missing_queries_score_zero():
    qrels = {**QRELS, "q4": {"d8": 1}}
    scores = per_query(qrels, RUN, ["mrr@10", "hit@1"])
    assert scores["mrr@10"] == pytest.approx({"q1": 1.0, "q2": 1 / 3, "q4": 0.0})
    assert scores["hit@1"] == {"q1": 1.0, "q2": 0.0, "q4": 0.0}


def test_aliases_and_unknown_metrics():
    assert ranx_name("hit@5") == "hit_rate@5"
    assert ranx_name("accuracy@1") == "hit_rate@1"
    assert ranx_name("P@10") == "precision@10"
    assert ranx_name("map") == "map"
    for bad in ("foo@3", "precision@0", "ndcg@x"):
        with pytest.raises(JiebangError, match="unknown metric"):
            ranx_name(bad)


@pytest.mark.parametrize("run", [{}, {"q1": {}, "q2": {}}])
def test_empty_run_is_an_error(run):
    with pytest.raises(JiebangError, match="the run is empty"):
        evaluate(QRELS, run)


def test_run_sharing_no_query_with_the_qrels_is_an_error():
    with pytest.raises(JiebangError, match="shares no query"):
        evaluate(QRELS, {"other": {"d1": 1.0}})


def test_bootstrap_interval_is_seeded_and_close_to_the_normal_approximation():
    scores = [0.0, 1.0] * 200
    first = bootstrap_ci(scores, n=2000, seed=3)
    assert first == bootstrap_ci(scores, n=2000, seed=3)
    assert first.mean == 0.5
    half_width = 1.96 * 0.5 / math.sqrt(len(scores))
    assert first.low == pytest.approx(0.5 - half_width, abs=0.01)
    assert first.high == pytest.approx(0.5 + half_width, abs=0.01)
    assert bootstrap_ci([0.7] * 10) == (0.7, 0.7, 0.7)
    with pytest.raises(JiebangError):
        bootstrap_ci([])


def test_paired_t_test_matches_scipy_and_identical_runs_give_one():
    rng = np.random.default_rng(0)
    qrels = {f"q{i}": {"rel": 1} for i in range(60)}
    weak = {qid: {"rel": float(rng.random()), "a": 0.5, "b": 0.6} for qid in qrels}
    strong = {qid: {"rel": float(rng.random()) + 0.4, "a": 0.5, "b": 0.6} for qid in qrels}
    p = paired_p_values(qrels, {"weak": weak, "strong": strong, "same": weak}, ["mrr@10"])
    mrr = [list(per_query(qrels, run, ["mrr@10"])["mrr@10"].values()) for run in (weak, strong)]
    assert p["strong"]["mrr@10"] == pytest.approx(ttest_rel(mrr[0], mrr[1]).pvalue)
    assert p["strong"]["mrr@10"] < 0.01
    assert p["same"]["mrr@10"] == 1.0
    fisher = paired_p_values(qrels, {"weak": weak, "strong": strong}, ["mrr@10"], test="fisher")
    assert fisher["strong"]["mrr@10"] < 0.01
