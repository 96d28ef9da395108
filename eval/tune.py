"""Fit what the engine ships for a model, cross-validated on the dev sets: `jiebang eval tune`.

1. **Ranking** on `challenge-org` (the product's task, primary): fusion mode × dense weight ×
   short-query aggregation, chosen by nDCG@10. Every query's channel hits are computed once by
   the engine and re-ranked under each configuration, so the grid costs no encoding.
2. **Long-query aggregation** on `patents-applicant` (a patent ranks its applicant): the
   aggregation for queries of patent length, by MRR, with the fusion chosen in 1.
3. **Confidence** on `challenge-org`: a logistic model of P(grade ≥ 1) over the top-10
   candidates' evidence features (`CANDIDATE_FEATURES`).

Each choice is cross-validated over queries (`eval.cv`, 5 folds, fixed seed): the CV run pools
each query's ranking under the configuration chosen without it. The final calibration is then
fitted on all queries. Nothing here touches the engine's internals: it calls `channel_hits`,
`rank` and `candidate_features` like any user of `MatchEngine`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from embed.embedder import Embedder
from embed.progress import progress_bar
from eval.baselines import BASELINES
from eval.cv import DEFAULT_FOLDS, DEFAULT_SEED, query_folds
from eval.metrics import per_query
from eval.runner import QueryHits, unjudged_at
from eval.runs import RunScores
from matcher.aggregate import Aggregation, AggregationConfig
from matcher.areas import ChallengeIndex
from matcher.calibration import (
    CANDIDATE_FEATURES,
    AreaModel,
    Calibration,
    CandidateModel,
    RankingConfig,
)
from matcher.calibration.logistic import fit_logistic
from matcher.calibration.ranking import Regime
from matcher.fusion import FusionConfig, FusionMode

TOP_PAIRS = 10
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


def describe(regime: Regime) -> str:
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
                regime: Regime(
                    fusion=FusionConfig(
                        mode=mode, weights={"dense": w, "lexical": round(1 - w, 2)}
                    ),
                    aggregation=aggregation,
                )
            }
        )
        for mode, w, aggregation in itertools.product(modes, DENSE_WEIGHTS, aggregations)
    ]


def baseline_runs(queries: QueryHits) -> dict[str, RunScores]:
    return {name: queries.baseline(name) for name in BASELINES}


# ---- confidence ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Pairs:
    """Top-k (query, organisation) pairs of a run with their features and grades."""

    qids: list[str]
    orgs: list[str]
    features: np.ndarray
    grades: np.ndarray  # -1 = unjudged
    rank: np.ndarray  # 0-based within the query


def top_pairs(
    queries: QueryHits, run: RunScores, fusion: FusionConfig, k: int = TOP_PAIRS
) -> Pairs:
    """The top-k organisations of every query of `run`, featurised as the engine would."""
    qids, orgs, rows, grades, ranks = [], [], [], [], []
    for qid, ranking in run.items():
        features = queries.engine.candidate_features(queries.hits[qid], fusion)
        judged = queries.dataset.qrels.get(qid, {})
        for rank, org in enumerate(list(ranking)[:k]):
            qids.append(qid)
            orgs.append(org)
            rows.append(features[org])
            grades.append(judged.get(org, -1))
            ranks.append(rank)
    return Pairs(qids, orgs, np.array(rows), np.array(grades), np.array(ranks))


def cross_validated_confidence(
    pairs: Pairs, *, folds: int = DEFAULT_FOLDS, seed: int = DEFAULT_SEED
) -> np.ndarray:
    """Each pair's confidence from a logistic model fitted without its query."""
    out = np.zeros(len(pairs.qids))
    qids = np.array(pairs.qids)
    for train, test in query_folds(sorted(set(pairs.qids)), folds, seed):
        fit = np.isin(qids, train)
        model = fit_logistic(pairs.features[fit], pairs.grades[fit] > 0, CANDIDATE_FEATURES)
        held = np.isin(qids, test)
        out[held] = model.probability(pairs.features[held])
    return out


def expected_calibration_error(
    confidence: np.ndarray, outcome: np.ndarray, bins: int = 10
) -> float:
    """ECE over equal-width confidence bins: Σ_b share_b · |mean confidence_b − rate_b|."""
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    return float(
        sum(
            (which == b).mean() * abs(confidence[which == b].mean() - outcome[which == b].mean())
            for b in range(bins)
            if (which == b).any()
        )
    )


def confidence_report(pairs: Pairs, confidence: np.ndarray) -> dict[str, float]:
    """ECE, mean confidence by grade, and how well the top-1 confidence flags capable queries."""
    from sklearn.metrics import roc_auc_score

    capable = pairs.grades > 0
    first = pairs.rank == 0
    has = {q: (pairs.grades[np.array(pairs.qids) == q]).max() for q in set(pairs.qids)}
    top1 = dict(zip(np.array(pairs.qids)[first], confidence[first], strict=True))
    qids = sorted(top1)
    grade2 = np.array([has[q] == 2 for q in qids])
    anything = np.array([has[q] >= 1 for q in qids])
    scores = np.array([top1[q] for q in qids])
    return {
        "pairs": len(confidence),
        "base_rate": round(float(capable.mean()), 4),
        "ece": round(expected_calibration_error(confidence, capable), 4),
        "brier": round(float(((confidence - capable) ** 2).mean()), 4),
        "mean_grade2": round(float(confidence[pairs.grades == 2].mean()), 4),
        "mean_grade1": round(float(confidence[pairs.grades == 1].mean()), 4),
        "mean_grade0": round(float(confidence[pairs.grades == 0].mean()), 4),
        "mean_unjudged": round(float(confidence[pairs.grades < 0].mean()), 4),
        "pair_auc": round(float(roc_auc_score(capable, confidence)), 4),
        "top1_auc_grade2": round(float(roc_auc_score(grade2, scores)), 4),
        "top1_auc_any": round(float(roc_auc_score(anything, scores)), 4),
    }


def capable_level(confidence: np.ndarray, outcome: np.ndarray) -> float:
    """The confidence threshold with the best F1 for "capable" over the pairs (CV confidences)."""
    best, level = -1.0, 0.5
    for threshold in np.round(np.arange(0.1, 0.91, 0.01), 2):
        predicted = confidence >= threshold
        hits = (predicted & outcome).sum()
        if not hits:
            continue
        precision, recall = hits / predicted.sum(), hits / outcome.sum()
        f1 = 2 * precision * recall / (precision + recall)
        if f1 > best:
            best, level = f1, float(threshold)
    return level


def fit_candidate_model(pairs: Pairs, capable: float) -> CandidateModel:
    """The shipped confidence: the logistic model fitted on all pairs."""
    logistic = fit_logistic(pairs.features, pairs.grades > 0, CANDIDATE_FEATURES)
    return CandidateModel(logistic=logistic, capable=capable)


def reliability_plot(confidence: np.ndarray, outcome: np.ndarray, path, title: str) -> None:
    """A reliability diagram (mean confidence vs observed rate per bin, with counts) as PNG."""
    from matplotlib.figure import Figure

    from eval.report import plotting

    bins = np.linspace(0, 1, 11)
    which = np.minimum((confidence * 10).astype(int), 9)
    centres, rates, counts = [], [], []
    for b in range(10):
        mask = which == b
        if mask.any():
            centres.append(confidence[mask].mean())
            rates.append(outcome[mask].mean())
            counts.append(int(mask.sum()))
    with plotting():
        fig = Figure(figsize=(5.5, 4.2), layout="constrained")
        axes = fig.subplots()
        axes.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="perfect")
        axes.plot(centres, rates, marker="o", label="jiebang (cross-validated)")
        for x, y, n in zip(centres, rates, counts, strict=True):
            axes.annotate(str(n), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7)
        axes.set_xticks(bins)
        axes.set_xlim(0, 1)
        axes.set_ylim(0, 1)
        axes.set_xlabel("confidence (P can contribute)")
        axes.set_ylabel("share of grade ≥ 1")
        axes.set_title(title, fontsize=9)
        axes.legend(loc="upper left", fontsize=8)
        fig.savefig(path, dpi=120)


# ---- the whole fit ------------------------------------------------------------------------


@dataclass
class TuneOutcome:
    """The fitted calibration and the cross-validated measurements behind it."""

    calibration: Calibration
    tables: dict[str, list[dict]]
    figures: list[str]
    runs: dict[str, RunScores]  # the cross-validated runs, for paired tests between models


def _summary(
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


def tune(
    data_dir,
    embedder: Embedder,
    base: Calibration,
    *,
    report_dir=None,
    folds: int = DEFAULT_FOLDS,
    seed: int = DEFAULT_SEED,
    progress: bool = True,
) -> TuneOutcome:
    """Fit ranking and confidence on the dev sets in `data_dir`; measure everything by CV.

    `base` supplies what is not refitted here (the area model: `eval.areas`) and the model id.
    """
    from pathlib import Path

    from eval.builtin import load_builtin

    tables: dict[str, list[dict]] = {}
    figures: list[str] = []
    challenges = QueryHits.collect(
        load_builtin("challenge-org", data_dir), embedder, base, progress
    )
    qrels = challenges.dataset.qrels

    # 1. fusion mode: the best of each mode on all queries, for the record.
    everything = grid_search(
        challenges,
        regime_grid(base.ranking, "short", SHORT_AGGREGATIONS),
        "ndcg@10",
        folds=folds,
        seed=seed,
        progress=progress,
    )
    mean = everything.scores.mean(axis=1)
    tables["fusion_modes"] = []
    for mode in MODES:
        best = max((i for i, c in enumerate(everything.configs) if c.short.fusion.mode is mode),
                   key=mean.__getitem__)  # fmt: skip
        tables["fusion_modes"].append(
            {"mode": str(mode), "best": everything.label(best), "ndcg@10": round(mean[best], 4)}
        )
    # 2. weights and aggregation within zscore (standardised over the whole index: the mode
    #    whose scores keep their meaning under filters and at any index size), by CV.
    zgrid = [c for c in everything.configs if c.short.fusion.mode is FusionMode.zscore]
    chosen = grid_search(challenges, zgrid, "ndcg@10", folds=folds, seed=seed, progress=False)
    ranking = chosen.configs[chosen.final]
    tables["short_grid"] = [
        {"config": chosen.label(i), "ndcg@10": round(float(chosen.scores[i].mean()), 4)}
        for i in np.argsort(-chosen.scores.mean(axis=1))
    ]
    runs = {
        **baseline_runs(challenges),
        "jiebang (CV)": chosen.cv_run,
        "jiebang (CV over all three modes)": everything.cv_run,
    }
    metrics = ["ndcg@10", "map", "recall@10", "hit@1"]
    tables["challenge_org"] = _summary(qrels, runs, metrics, "z-fusion")
    for row in tables["challenge_org"]:
        row["unjudged@10"] = round(unjudged_at(runs[row["run"]], qrels), 2)
    tables["challenge_org_folds"] = [{"fold": f, "chosen": chosen.label(i)}
                                     for f, i in enumerate(chosen.chosen)]  # fmt: skip

    # 3. the long-query regime on patents-applicant (zscore fusion weight × aggregation).
    applicants = QueryHits.collect(
        load_builtin("patents-applicant", data_dir), embedder, base, progress
    )
    grid = regime_grid(ranking, "long", LONG_AGGREGATIONS, modes=(FusionMode.zscore,))
    long = grid_search(applicants, grid, "mrr", folds=folds, seed=seed, progress=False)
    ranking = long.configs[long.final]
    tables["long_grid"] = [
        {"config": long.label(i, "long"), "mrr": round(float(long.scores[i].mean()), 4)}
        for i in np.argsort(-long.scores.mean(axis=1))
    ]
    app_runs = {**baseline_runs(applicants), "jiebang (CV)": long.cv_run}
    tables["patents_applicant"] = _summary(
        applicants.dataset.qrels, app_runs, ["mrr", "hit@1", "hit@10"], "z-fusion"
    )

    # 4. confidence on the top-10 pairs of all 95 challenge-org queries (those with no capable
    #    organisation too: they are where a low confidence matters), under the chosen ranking.
    pairs = top_pairs(challenges, challenges.run(ranking), ranking.short.fusion)
    confidence = cross_validated_confidence(pairs, folds=folds, seed=seed)
    capable = capable_level(confidence, pairs.grades > 0)
    report = confidence_report(pairs, confidence)
    report["capable_level"] = capable
    tables["confidence"] = [report]
    candidate = fit_candidate_model(pairs, capable)
    if report_dir is not None:
        path = Path(report_dir) / "reliability.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        reliability_plot(confidence, pairs.grades > 0, path,
                         f"challenge-org: top-10 pairs of {len(set(pairs.qids))} queries, "
                         f"{folds}-fold CV")  # fmt: skip
        figures.append(str(path))

    # 5. area decisions for bulk matching, on patent-area, through the bulk retrieval.
    area_model, area_tables = tune_areas(data_dir, embedder, ranking, report_dir, folds, seed)
    tables.update(area_tables)
    figures += [str(Path(report_dir) / "patent_area_curve.png")] if report_dir is not None else []

    calibration = base.model_copy(
        update={
            "ranking": ranking,
            "candidate": candidate,
            "area": area_model,
            "fitted_on": (
                "challenge-org (ranking: zscore fusion weight and short-query aggregation by "
                "nDCG@10; confidence: logistic P(grade>=1) over top-10 pairs), "
                "patents-applicant (long-query aggregation by MRR); patent-area (area "
                "directions and decision model, threshold by F1); "
                f"{folds}-fold CV over queries, seed {seed}"
            ),
            "measured": {
                **base.measured,
                **{
                    k: v
                    for k, v in tables.items()
                    if k in ("challenge_org", "patents_applicant", "confidence")
                },
            },
        }
    )
    cv_runs = {"challenge-org": chosen.cv_run, "patents-applicant": long.cv_run}
    return TuneOutcome(calibration, tables, figures, cv_runs)


def tune_areas(
    data_dir,
    embedder: Embedder,
    ranking: RankingConfig,
    report_dir=None,
    folds: int = DEFAULT_FOLDS,
    seed: int = DEFAULT_SEED,
) -> tuple[AreaModel, dict[str, list[dict]]]:
    """The area model fitted on all of `patent-area`, and its CV figures beside the baselines."""
    from pathlib import Path

    from corpus.catalogue import builtin_catalogue
    from eval import areas

    catalogue = builtin_catalogue()
    labelled = areas.load_patent_area(data_dir)
    index = ChallengeIndex(embedder, catalogue.challenges, ranking, areas.AREAS)
    retrieved = areas.retrieve_set(index, labelled.patents)
    cv = areas.cross_validate(retrieved, labelled.gold, folds=folds, seed=seed)
    c = areas.choose_c(retrieved.features, retrieved.vectors, labelled.gold, seed)
    model = areas.fit_area_model(retrieved.features, retrieved.vectors, labelled.gold, c, seed)
    rows = [{"run": "jiebang (CV, own threshold)", **cv.metrics}]
    rows += [
        {"run": f"{name}, oracle threshold", **metrics}
        for name, metrics in areas.baselines(
            embedder, catalogue, labelled.patents, labelled.gold
        ).items()
    ]
    points = areas.curve(cv.probability, labelled.gold)
    if report_dir is not None:
        areas.curve_plot(points, cv.metrics, Path(report_dir) / "patent_area_curve.png")
    tables = {"patent_area": rows, "patent_area_curve": points, "patent_area_folds": cv.folds}
    return model, tables
