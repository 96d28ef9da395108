"""The tuning's grid and tables on a synthetic grid (the full fit is `jiebang eval tune`)."""

from __future__ import annotations

import numpy as np

from eval import tune_tables
from eval.ranking_grid import (
    DENSE_WEIGHTS,
    LONG_AGGREGATIONS,
    MODES,
    SHORT_AGGREGATIONS,
    GridResult,
    regime_grid,
)
from matcher.calibration import RankingConfig
from matcher.fusion import FusionMode


def synthetic(metric: str = "ndcg@10", regime: str = "short") -> GridResult:
    configs = regime_grid(RankingConfig(), regime, SHORT_AGGREGATIONS)
    scores = np.random.default_rng(0).random((len(configs), 6))
    return GridResult(metric, configs, scores, [f"q{i}" for i in range(6)], {}, [3, 1], 5)


def test_the_grid_varies_one_regime_and_keeps_the_other() -> None:
    base = RankingConfig()
    short = regime_grid(base, "short", SHORT_AGGREGATIONS)
    assert len(short) == len(MODES) * len(DENSE_WEIGHTS) * len(SHORT_AGGREGATIONS)
    assert all(c.long == base.long for c in short)
    long = regime_grid(base, "long", LONG_AGGREGATIONS, modes=(FusionMode.zscore,))
    assert all(c.short == base.short and c.long.fusion.mode is FusionMode.zscore for c in long)
    assert {tuple(sorted(c.long.fusion.weights.values())) for c in long} == {
        tuple(sorted((w, round(1 - w, 2)))) for w in DENSE_WEIGHTS
    }


def test_fusion_modes_table_names_each_modes_best_configuration() -> None:
    result = synthetic()
    mean = result.scores.mean(axis=1)
    rows = tune_tables.fusion_modes(result)
    assert [row["mode"] for row in rows] == [str(mode) for mode in MODES]
    for row, mode in zip(rows, MODES, strict=True):
        of_mode = [i for i, c in enumerate(result.configs) if c.short.fusion.mode is mode]
        best = max(of_mode, key=mean.__getitem__)
        assert row == {
            "mode": str(mode),
            "best": result.label(best),
            "ndcg@10": round(mean[best], 4),
        }


def test_grid_table_is_best_first_under_the_grids_metric() -> None:
    result = synthetic(metric="mrr")
    rows = tune_tables.grid(result, "long")
    assert len(rows) == len(result.configs) and set(rows[0]) == {"config", "mrr"}
    assert [row["mrr"] for row in rows] == sorted((row["mrr"] for row in rows), reverse=True)
    best = int(np.argmax(result.scores.mean(axis=1)))
    assert rows[0]["config"] == result.label(best, "long")


def test_folds_table_labels_each_folds_choice() -> None:
    result = synthetic()
    assert tune_tables.folds(result) == [
        {"fold": 0, "chosen": result.label(3)},
        {"fold": 1, "chosen": result.label(1)},
    ]
