"""The measurement tables `jiebang eval tune` writes (`tables.json`): each a list of rows.

Pure bookkeeping over results already computed — grid scores (`eval.ranking_grid.GridResult`)
and cross-validated runs — so what is measured can be read apart from how it was fitted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from eval.ranking_grid import MODES, GridResult
from eval.runner import unjudged_at
from eval.runs import RunScores

CHALLENGE_ORG_METRICS = ["ndcg@10", "map", "recall@10", "hit@1"]
APPLICANT_METRICS = ["mrr", "hit@1", "hit@10"]


def summary(
    qrels, runs: Mapping[str, RunScores], metrics: Sequence[str], baseline: str
) -> list[dict]:
    """One row per run: mean [95 % bootstrap CI] per metric, paired p against `baseline`."""
    from eval.report import compare_runs

    ordered = {baseline: runs[baseline], **{k: v for k, v in runs.items() if k != baseline}}
    comparison = compare_runs(qrels, ordered, metrics)
    rows = []
    for name in comparison.runs:
        row: dict = {"run": name}
        for metric in metrics:
            interval = comparison.intervals[name][metric]
            row[metric] = [round(interval.mean, 4), round(interval.low, 4), round(interval.high, 4)]
            if name != baseline:
                row[f"p_{metric}"] = round(comparison.p_values[name][metric], 4)
        rows.append(row)
    return rows


def fusion_modes(everything: GridResult) -> list[dict]:
    """Each fusion mode's best configuration on all queries (for the record, not chosen by CV)."""
    mean = everything.scores.mean(axis=1)
    rows = []
    for mode in MODES:
        best = max((i for i, c in enumerate(everything.configs) if c.short.fusion.mode is mode),
                   key=mean.__getitem__)  # fmt: skip
        rows.append(
            {"mode": str(mode), "best": everything.label(best), "ndcg@10": round(mean[best], 4)}
        )
    return rows


def grid(result: GridResult, regime: str = "short") -> list[dict]:
    """Every configuration of a grid by its mean score, best first."""
    return [
        {"config": result.label(i, regime), result.metric: round(float(result.scores[i].mean()), 4)}
        for i in np.argsort(-result.scores.mean(axis=1))
    ]


def folds(result: GridResult) -> list[dict]:
    """The configuration each fold's training queries chose."""
    return [{"fold": f, "chosen": result.label(i)} for f, i in enumerate(result.chosen)]


def challenge_org(qrels, runs: Mapping[str, RunScores]) -> list[dict]:
    """The summary against z-fusion, with each run's share of unjudged pairs in its top 10."""
    rows = summary(qrels, runs, CHALLENGE_ORG_METRICS, "z-fusion")
    for row in rows:
        row["unjudged@10"] = round(unjudged_at(runs[row["run"]], qrels), 2)
    return rows
