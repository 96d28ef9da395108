"""Fit what the engine ships for a model, cross-validated on the dev sets: `jiebang eval tune`.

1. **Ranking** on `challenge-org` (the product's task, primary): fusion mode × dense weight ×
   short-query aggregation, chosen by nDCG@10. Every query's channel hits are computed once by
   the engine and re-ranked under each configuration, so the grid costs no encoding.
2. **Long-query aggregation** on `patents-applicant` (a patent ranks its applicant): the
   aggregation for queries of patent length, by MRR, with the fusion chosen in 1.
3. **Confidence** on `challenge-org` (`eval.confidence`): a logistic model of P(grade ≥ 1)
   over `CANDIDATE_FEATURES`, whole text and facets; the engine orders candidates by it.

Before any of it, the **reference background** every evidence score is standardised against
(`embed.background`) is fitted on the dev corpus's passages (unlabelled statistics only).

Each choice is cross-validated over queries (`eval.cv`, 5 folds, fixed seed): the CV run pools
each query's ranking under the configuration chosen without it, and its confidence from a model
fitted without it (nested: the fold's ranking configuration is chosen on its training queries).
The final calibration is then fitted on all queries. Nothing here touches the engine's
internals: it calls `channel_hits` and `rank` like any user of `MatchEngine`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from embed.background import Background
from embed.chunk import MAX_PASSAGE_CHARS
from embed.embedder import Embedder
from embed.progress import progress_bar
from eval import confidence as conf
from eval.baselines import BASELINES
from eval.cv import DEFAULT_FOLDS, DEFAULT_SEED, query_folds
from eval.metrics import per_query
from eval.runner import QueryHits, evidence_docs, unjudged_at
from eval.runs import RunScores
from matcher.aggregate import Aggregation, AggregationConfig
from matcher.areas import ChallengeIndex
from matcher.calibration import AreaModel, Calibration, CandidateModel, RankingConfig
from matcher.calibration.regimes import QueryRegime
from matcher.evidence import chunk_docs
from matcher.fusion import FusionConfig, FusionMode
from matcher.teams.facets import decompose

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


def baseline_runs(queries: QueryHits) -> dict[str, RunScores]:
    return {name: queries.baseline(name) for name in BASELINES}


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
    """Fit background, ranking and confidence on the dev sets in `data_dir`; measure by CV.

    `base` supplies the model id and what a step leaves as it was.
    """
    from pathlib import Path

    from eval.builtin import load_builtin

    tables: dict[str, list[dict]] = {}
    figures: list[str] = []
    challenge_set = load_builtin("challenge-org", data_dir)
    base = base.with_background(fit_background(challenge_set, embedder, progress))
    challenges = QueryHits.collect(challenge_set, embedder, base, progress)
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
    # 2. weights and aggregation within zscore (standardised against the reference background:
    #    the mode whose scores keep their meaning under filters and whatever is indexed), by CV.
    zgrid = [c for c in everything.configs if c.short.fusion.mode is FusionMode.zscore]
    chosen = grid_search(challenges, zgrid, "ndcg@10", folds=folds, seed=seed, progress=False)
    ranking = chosen.configs[chosen.final]
    tables["short_grid"] = [
        {"config": chosen.label(i), "ndcg@10": round(float(chosen.scores[i].mean()), 4)}
        for i in np.argsort(-chosen.scores.mean(axis=1))
    ]
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

    # 4. confidence, and the order it gives (the engine's), nested in the same CV.
    fitted = tune_confidence(challenges, chosen, data_dir, folds, seed)
    tables.update(fitted.tables)
    runs = {
        **baseline_runs(challenges),
        "jiebang (CV, ordered by confidence)": fitted.run,
        "jiebang (CV, ordered by score)": chosen.cv_run,
        "jiebang (CV over all three modes, by score)": everything.cv_run,
    }
    metrics = ["ndcg@10", "map", "recall@10", "hit@1"]
    tables["challenge_org"] = _summary(qrels, runs, metrics, "z-fusion")
    for row in tables["challenge_org"]:
        row["unjudged@10"] = round(unjudged_at(runs[row["run"]], qrels), 2)
    if report_dir is not None:
        path = Path(report_dir) / "reliability.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        conf.reliability_plot(fitted.pairs, path,
                              f"challenge-org: top-10 pairs of {len(challenges.texts)} queries, "
                              f"{folds}-fold CV")  # fmt: skip
        figures.append(str(path))

    # 5. area decisions for bulk matching, on patent-area, through the bulk retrieval.
    area_model, area_tables = tune_areas(data_dir, embedder, ranking, report_dir, folds, seed)
    tables.update(area_tables)
    figures += [str(Path(report_dir) / "patent_area_curve.png")] if report_dir is not None else []

    calibration = base.model_copy(
        update={
            "ranking": ranking,
            "candidate": fitted.model,
            "area": area_model,
            "fitted_on": (
                "challenge-org (background: its corpus's passages, unlabelled; ranking: zscore "
                "fusion weight and short-query aggregation by nDCG@10; confidence: logistic "
                "P(grade>=1) over the top-20 and judged pairs, whole text and facets), "
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
    cv_runs = {"challenge-org": fitted.run, "patents-applicant": long.cv_run}
    return TuneOutcome(calibration, tables, figures, cv_runs)


def fit_background(dataset, embedder: Embedder, progress: bool = True) -> Background:
    """The reference background of `dataset`'s corpus, chunked as the engine chunks evidence."""
    texts = [p.text for p in chunk_docs(evidence_docs(dataset), MAX_PASSAGE_CHARS)]
    return Background.fit(texts, embedder.encode_passages(texts, progress=progress))


@dataclass(frozen=True)
class FittedConfidence:
    """The shipped candidate model, its CV run and shown pairs, and the tables behind it."""

    model: CandidateModel
    run: RunScores
    pairs: conf.ShownPairs
    tables: dict[str, list[dict]]


def tune_confidence(
    challenges: QueryHits, chosen: GridResult, data_dir, folds: int, seed: int
) -> FittedConfidence:
    """The candidate model on `challenge-org`, its CV order and calibration by kind of query,
    leave-one-domain-out, with facets and without, and on appendix-style composites."""
    from eval.builtin import challenge_domains

    qrels = challenges.dataset.qrels
    texts = challenges.texts
    domain_of = challenge_domains(data_dir)
    facet_hits = conf.facet_hits(challenges)
    splits = conf.folds(texts, folds, seed)
    position = {q: i for i, q in enumerate(chosen.qids)}
    scored_by: dict[int, dict[str, conf.ScoredQuery]] = {}

    def scored(config: int) -> dict[str, conf.ScoredQuery]:
        if config not in scored_by:
            scored_by[config] = conf.score_queries(challenges, chosen.configs[config], facet_hits)
        return scored_by[config]

    def fold_config(train: list[str]) -> int:
        columns = [position[q] for q in train if q in position]
        return int(np.argmax(chosen.scores[:, columns].mean(axis=1)))

    def cv(splitting: conf.Splits, facets: bool = True) -> dict[str, dict[str, float]]:
        confidence: dict[str, dict[str, float]] = {}
        for train, test in splitting:
            config = scored(fold_config(train))
            model = conf.fit_model(config, qrels, train)
            confidence.update({q: config[q].confidence(model, facets) for q in test})
        return confidence

    def report(confidence: dict[str, dict[str, float]]) -> tuple[RunScores, conf.ShownPairs]:
        merged = {q: s for config in scored_by.values() for q, s in config.items()}
        run = conf.ordered_run(confidence, merged)
        return run, conf.shown_pairs(run, confidence, qrels)

    run, pairs = report(cv(splits))
    capable = conf.capable_level(pairs.confidence, pairs.grades > 0)
    tables = {"confidence": [{**conf.calibration_report(pairs), "capable_level": capable}]}
    facets_of = {q: len(decompose(t)) for q, t in texts.items()}  # the splitter teams use
    for name, kind in (
        ("facets", lambda q: conf.facet_kind(facets_of[q])),
        ("length", lambda q: conf.length_kind(texts[q])),
        ("domain", domain_of.__getitem__),
    ):
        tables[f"confidence_by_{name}"] = [
            {"kind": k, **r} for k, r in conf.report_by(pairs, kind).items()
        ]
    _, lodo = report(cv(conf.by_group(texts, domain_of.__getitem__)))
    without_run, without = report(cv(splits, facets=False))
    tables["confidence_transfer"] = [
        {"protocol": f"{folds}-fold CV, facets scored", **conf.calibration_report(pairs)},
        {"protocol": "leave one domain out", **conf.calibration_report(lodo)},
        {"protocol": f"{folds}-fold CV, whole text only", **conf.calibration_report(without)},
    ]
    tables["facet_ordering"] = _summary(
        qrels, {"by confidence, facets": run, "by confidence, whole text": without_run},
        ["ndcg@10", "recall@10"], "by confidence, whole text",
    )  # fmt: skip
    tables["composites"] = composite_tables(challenges, chosen, splits, domain_of, fold_config)
    model = conf.fit_model(scored(chosen.final), qrels, sorted(texts), capable=capable)
    return FittedConfidence(model, run, pairs, tables)


def composite_tables(
    challenges: QueryHits,
    chosen: GridResult,
    splits: conf.Splits,
    domain_of: Mapping[str, str],
    fold_config,
) -> list[dict]:
    """Appendix-style challenges made from real ones (`eval.confidence.composite_queries`),
    held out by fold: calibration and nDCG@10 with facets scored and without."""
    qrels = challenges.dataset.qrels
    texts, grades, parts_of = conf.composite_queries(challenges.texts, qrels, domain_of, splits)
    hits = {cid: challenges.engine.channel_hits(text) for cid, text in texts.items()}
    facet_hits = {
        cid: [(f.query, challenges.engine.channel_hits(f.query)) for f in conf.enumerated(text)]
        for cid, text in texts.items()
    }
    rows = []
    for facets in (True, False):
        confidence: dict[str, dict[str, float]] = {}
        merged: dict[str, conf.ScoredQuery] = {}
        for train, test in splits:
            config = chosen.configs[fold_config(train)]
            fitted_on = conf.score_queries(challenges, config)
            model = conf.fit_model(fitted_on, qrels, train)
            held = {c: t for c, t in texts.items() if set(parts_of[c]) <= set(test)}
            scored = conf.score_queries(challenges, config, facet_hits, held, hits)
            merged.update(scored)
            confidence.update({c: s.confidence(model, facets) for c, s in scored.items()})
        run = conf.ordered_run(confidence, merged)
        pairs = conf.shown_pairs(run, confidence, grades)
        quality = _summary(grades, {"run": run}, ["ndcg@10"], "run")[0]["ndcg@10"]
        rows.append({"facets scored": facets, "ndcg@10": quality,
                     **conf.calibration_report(pairs)})  # fmt: skip
    return rows


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
