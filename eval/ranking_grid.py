"""The ranking's grid: fusion mode × dense weight × aggregation, each configuration scored per
query on channel hits computed once (`eval.runner.QueryHits`), chosen by cross-validation over
queries (`eval.cv`). `jiebang eval tune` (`eval.tune`) fits the short-query regime on
`challenge-org` and the long-query regime on `patents-applicant` with it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from embed.progress import progress_bar
from eval.cv import DEFAULT_FOLDS, DEFAULT_SEED, query_folds
from eval.metrics import per_query
from eval.runner import QueryHits
from eval.runs import RunScores
from matcher.aggregate import Aggregation, AggregationConfig
from matcher.calibration import RankingConfig
from matcher.calibration.regimes import QueryRegime
from matcher.fusion import FusionConfig, FusionMode

DENSE_WEIGHTS = (0.5, 0.6, 0.7, 0.8, 0.9)
SHORT_AGGREGATIONS = (
    AggregationConfig(mode=Aggregation.max),
    *(
        AggregationConfig(mode=Aggregation.topk_decay, params={"k": 2, "decay": d})
        for d in (0.1, 0.2, 0.3)
    ),
    *(
        AggregationConfig(mode=Aggregation.balog, params={"temperature": t})
        for t in (0.5, 1.0, 2.0)
    ),
)
LONG_AGGREGATIONS = (
    AggregationConfig(mode=Aggregation.max),
    AggregationConfig(mode=Aggregation.topk_decay, params={"k": 2, "decay": 0.2}),
    *(AggregationConfig(mode=Aggregation.balog, params={"temperature": t})
      for t in (0.5, 1.0, 2.0, 4.0)),
)  # fmt: skip
# Fusion modes are compared at these weights only: minmax and rrf normalise differently, so
# their best weight differs, but none comes near zscore (EVALUATION.md, "Fusion").
MODES = tuple(FusionMode)


@dataclass(frozen=True)
class GridResult:
    """Per-query scores of every configuration tried, and the CV run that chose among them."""

    metric: str
    configs: list[RankingConfig]
    scores: np.ndarray  # configs × judged queries
    qids: list[str]
    cv_run: RunScores
    chosen: list[int]  # per fold
    final: int  # chosen on all queries

    def label(self, i: int, regime: str = "short") -> str:
        return describe(getattr(self.configs[i], regime))


def describe(regime: QueryRegime) -> str:
    """A one-line description of a regime: fusion mode, dense weight, aggregation."""
    fusion, agg = regime.fusion, regime.aggregation
    params = ", ".join(f"{k} {v:g}" for k, v in agg.params.items())
    weights = f"dense {fusion.weights.get('dense', 0):.1f}"
    return f"{fusion.mode} ({weights}), {agg.mode}{f' ({params})' if params else ''}"


def grid_search(
    queries: QueryHits,
    configs: Sequence[RankingConfig],
    metric: str,
    *,
    folds: int = DEFAULT_FOLDS,
    seed: int = DEFAULT_SEED,
    progress: bool = True,
) -> GridResult:
    """Score each configuration per query, then choose by `folds`-fold CV over queries."""
    qrels = queries.dataset.qrels
    judged = queries.dataset.judged_qids
    runs: list[RunScores] = []
    rows = []
    with progress_bar("ranking configurations", len(configs), enabled=progress) as advance:
        for config in configs:
            run = queries.run(config)
            runs.append(run)
            by_query = per_query(qrels, run, [metric])[metric]
            rows.append([by_query[q] for q in judged])
            advance(1)
    scores = np.array(rows)
    position = {q: i for i, q in enumerate(judged)}
    cv_run: RunScores = {}
    chosen = []
    for train, test in query_folds(judged, folds, seed):
        best = int(np.argmax(scores[:, [position[q] for q in train]].mean(axis=1)))
        chosen.append(best)
        cv_run.update({q: runs[best][q] for q in test})
    final = int(np.argmax(scores.mean(axis=1)))
    return GridResult(metric, list(configs), scores, judged, cv_run, chosen, final)


def regime_grid(
    base: RankingConfig,
    regime: str,
    aggregations: Sequence[AggregationConfig],
    modes: Sequence[FusionMode] = MODES,
) -> list[RankingConfig]:
    """Fusion mode × dense weight × aggregation for one regime; the other kept from `base`."""
    return [
        base.model_copy(
            update={
                regime: QueryRegime(
                    fusion=FusionConfig(
                        mode=mode, weights={"dense": w, "lexical": round(1 - w, 2)}
                    ),
                    aggregation=aggregation,
                )
            }
        )
        for mode, w, aggregation in itertools.product(modes, DENSE_WEIGHTS, aggregations)
    ]


def fit_short_ranking(
    challenges: QueryHits,
    base: RankingConfig,
    *,
    folds: int = DEFAULT_FOLDS,
    seed: int = DEFAULT_SEED,
    progress: bool = True,
) -> tuple[GridResult, GridResult]:
    """(every fusion mode, for the record; zscore's weight and short-query aggregation chosen by
    CV on nDCG@10) — zscore because its scores, standardised against the reference background,
    keep their meaning under filters and whatever is indexed."""
    grid = regime_grid(base, "short", SHORT_AGGREGATIONS)
    everything = grid_search(challenges, grid, "ndcg@10", folds=folds, seed=seed, progress=progress)
    zgrid = [c for c in everything.configs if c.short.fusion.mode is FusionMode.zscore]
    chosen = grid_search(challenges, zgrid, "ndcg@10", folds=folds, seed=seed, progress=False)
    return everything, chosen


def fit_long_ranking(
    applicants: QueryHits,
    short: RankingConfig,
    *,
    folds: int = DEFAULT_FOLDS,
    seed: int = DEFAULT_SEED,
) -> GridResult:
    """The long-query regime (zscore's weight × aggregation) by CV on MRR, `short` kept."""
    grid = regime_grid(short, "long", LONG_AGGREGATIONS, modes=(FusionMode.zscore,))
    return grid_search(applicants, grid, "mrr", folds=folds, seed=seed, progress=False)
