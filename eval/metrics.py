"""Retrieval metrics through ranx, bootstrap confidence intervals and paired significance tests.

Metric names are ranx's (``ndcg@10``, ``mrr@10``, ``recall@k``, ``precision@k``, ``map``,
``hit_rate@k``) plus the aliases ``hit@k`` / ``accuracy@k`` (→ ``hit_rate@k``: 1 when any relevant
candidate is in the top k) and ``p@k`` (→ ``precision@k``). nDCG uses linear gains (trec_eval's
convention), so relevance 2 counts twice relevance 1.

Metrics are averaged over the *judged* queries, those with at least one qrels line of
relevance > 0; a judged query missing from the run scores 0.

ranx compiles its metrics with numba: the first call in a fresh environment takes ~20 s, later
processes load the compiled cache (~3 s on a 2-core machine).
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Literal, NamedTuple

import numpy as np
from ranx import Qrels as RanxQrels
from ranx import Run as RanxRun
from ranx import compare
from ranx import evaluate as ranx_evaluate

from corpus.errors import JiebangError
from eval.dataset import Qrels
from eval.runs import RunScores

DEFAULT_METRICS: tuple[str, ...] = (
    "ndcg@10",
    "mrr@10",
    "map",
    "recall@10",
    "recall@100",
    "p@10",
    "hit@1",
    "hit@5",
    "hit@10",
)

StatTest = Literal["student", "fisher"]
"""Paired tests offered by ranx: Student's t-test, Fisher's randomisation test."""

_ALIASES = {"hit": "hit_rate", "accuracy": "hit_rate", "p": "precision"}
_RANX_METRICS = {"hits", "hit_rate", "precision", "recall", "f1", "r-precision", "mrr", "map"}
_RANX_METRICS |= {"ndcg", "ndcg_burges"}
_METRIC = re.compile(r"^(?P<base>[a-z_-]+)(?:@(?P<k>[1-9]\d*))?$")


class Interval(NamedTuple):
    """A mean with its bootstrap confidence interval."""

    mean: float
    low: float
    high: float


def ranx_name(metric: str) -> str:
    """The ranx spelling of `metric`; an unknown metric is a `JiebangError`."""
    match = _METRIC.match(metric.strip().lower())
    base = _ALIASES.get(match["base"], match["base"]) if match else None
    if match is None or base not in _RANX_METRICS:
        raise JiebangError(
            f"unknown metric {metric!r}; use e.g. ndcg@10, mrr@10, map, recall@k, p@k, hit@k"
        )
    return f"{base}@{match['k']}" if match["k"] else base


def evaluate(
    qrels: Qrels, run: RunScores, metrics: Sequence[str] = DEFAULT_METRICS
) -> dict[str, float]:
    """Mean of each metric over the judged queries, keyed by the names asked for."""
    return {
        metric: float(np.mean(list(scores.values())))
        for metric, scores in per_query(qrels, run, metrics).items()
    }


def per_query(
    qrels: Qrels, run: RunScores, metrics: Sequence[str] = DEFAULT_METRICS
) -> dict[str, dict[str, float]]:
    """Each metric's score for every judged query: metric → {qid → score}, qids sorted."""
    judged = _judged(qrels)
    ranx_run = RanxRun(_check_run(run, judged))
    names = [ranx_name(metric) for metric in metrics]
    with _quiet_numba():
        # Per-query results land in `ranx_run.scores`, keyed by qid (judged queries only).
        ranx_evaluate(RanxQrels(judged), ranx_run, names, return_mean=False, make_comparable=True)
    return {
        metric: {qid: float(ranx_run.scores[name][qid]) for qid in sorted(judged)}
        for metric, name in zip(metrics, names, strict=True)
    }


def paired_p_values(
    qrels: Qrels,
    runs: Mapping[str, RunScores],
    metrics: Sequence[str] = DEFAULT_METRICS,
    test: StatTest = "student",
) -> dict[str, dict[str, float]]:
    """Two-sided p-value of each later run against the first, per metric (ranx.compare).

    Fisher's randomisation test uses ranx's fixed seed, so p-values are reproducible. Where the
    two runs score every query the same, the t-test is undefined and the p-value is 1.
    """
    if len(runs) < 2:
        raise JiebangError("a significance test needs at least two runs")
    judged = _judged(qrels)
    labels = {f"run{i}": name for i, name in enumerate(runs)}
    ranx_runs = [
        RanxRun(_check_run(run, judged), name=label)
        for label, run in zip(labels, runs.values(), strict=True)
    ]
    names = [ranx_name(metric) for metric in metrics]
    with _quiet_numba():
        report = compare(
            RanxQrels(judged), ranx_runs, names, stat_test=test, make_comparable=True
        ).to_dict()
    baseline = report["run0"]["comparisons"]
    pairs = list(zip(metrics, names, strict=True))
    return {
        labels[label]: {metric: _p_value(baseline[label][name]) for metric, name in pairs}
        for label in list(labels)[1:]
    }


def bootstrap_ci(
    per_query_scores: Sequence[float] | np.ndarray,
    n: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> Interval:
    """Percentile bootstrap interval of the mean, resampling queries with replacement."""
    scores = np.asarray(per_query_scores, dtype=float)
    if scores.size == 0:
        raise JiebangError("no per-query scores to bootstrap")
    rng = np.random.default_rng(seed)
    means = scores[rng.integers(0, scores.size, size=(n, scores.size))].mean(axis=1)
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return Interval(float(scores.mean()), float(low), float(high))


def _p_value(value: float) -> float:
    return 1.0 if math.isnan(value) else float(value)


def _judged(qrels: Qrels) -> Qrels:
    judged = {qid: docs for qid, docs in qrels.items() if any(r > 0 for r in docs.values())}
    if not judged:
        raise JiebangError("the qrels have no relevant judgement (relevance > 0)")
    return judged


def _check_run(run: RunScores, judged: Qrels) -> RunScores:
    ranked = {qid: scores for qid, scores in run.items() if scores}
    if not ranked:
        raise JiebangError("the run is empty: no query has a ranked candidate")
    if ranked.keys().isdisjoint(judged):
        example = next(iter(ranked))
        raise JiebangError(f"the run shares no query with the qrels (run has e.g. {example!r})")
    return ranked


@contextmanager
def _quiet_numba() -> Iterator[None]:
    """Silence warnings about ranx internals that cannot change a result."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="ranx")
        warnings.filterwarnings("ignore", message=".*unsafe cast.*")
        # scipy warns when paired differences are (nearly) constant; the p-value still stands.
        warnings.filterwarnings("ignore", message="Precision loss occurred", module="scipy")
        yield
