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

By role: running (each dev set's channel hits, once: `eval.runner.QueryHits`), fitting (the
ranking grids: `eval.ranking_grid`; confidence, areas and the calibration: here), measuring (the
tables: `eval.tune_tables`) and plotting (`write_plots`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embed.background import Background
from embed.chunk import MAX_PASSAGE_CHARS
from embed.embedder import Embedder
from eval import confidence as conf
from eval import tune_tables as measured
from eval.baselines import BASELINES
from eval.cv import DEFAULT_FOLDS, DEFAULT_SEED
from eval.ranking_grid import GridResult, fit_long_ranking, fit_short_ranking
from eval.runner import QueryHits, evidence_docs
from eval.runs import RunScores
from matcher.areas import ChallengeIndex
from matcher.calibration import AreaModel, Calibration, CandidateModel, RankingConfig
from matcher.evidence import chunk_docs
from matcher.teams.facets import decompose


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
    from eval.builtin import load_builtin

    challenge_set = load_builtin("challenge-org", data_dir)
    base = base.with_background(fit_background(challenge_set, embedder, progress))
    challenges = QueryHits.collect(challenge_set, embedder, base, progress)
    everything, chosen = fit_short_ranking(
        challenges, base.ranking, folds=folds, seed=seed, progress=progress
    )
    applicants = QueryHits.collect(
        load_builtin("patents-applicant", data_dir), embedder, base, progress
    )
    long = fit_long_ranking(applicants, chosen.configs[chosen.final], folds=folds, seed=seed)
    ranking = long.configs[long.final]
    app_runs = {**baseline_runs(applicants), "jiebang (CV)": long.cv_run}
    tables = {
        "fusion_modes": measured.fusion_modes(everything),
        "short_grid": measured.grid(chosen),
        "challenge_org_folds": measured.folds(chosen),
        "long_grid": measured.grid(long, "long"),
        "patents_applicant": measured.summary(
            applicants.dataset.qrels, app_runs, measured.APPLICANT_METRICS, "z-fusion"
        ),
    }
    # confidence, and the order it gives (the engine's), nested in the same CV.
    fitted = tune_confidence(challenges, chosen, data_dir, folds, seed)
    tables.update(fitted.tables)
    runs = {
        **baseline_runs(challenges),
        "jiebang (CV, ordered by confidence)": fitted.run,
        "jiebang (CV, ordered by score)": chosen.cv_run,
        "jiebang (CV over all three modes, by score)": everything.cv_run,
    }
    tables["challenge_org"] = measured.challenge_org(challenges.dataset.qrels, runs)
    # area decisions for bulk matching, on patent-area, through the bulk retrieval.
    areas = tune_areas(data_dir, embedder, ranking, folds, seed)
    tables.update(areas.tables)
    figures: list[str] = []
    if report_dir is not None:
        figures = write_plots(Path(report_dir), fitted, areas, len(challenges.texts), folds)
    calibration = fitted_calibration(base, ranking, fitted.model, areas.model, tables, folds, seed)
    cv_runs = {"challenge-org": fitted.run, "patents-applicant": long.cv_run}
    return TuneOutcome(calibration, tables, figures, cv_runs)


def fitted_calibration(
    base: Calibration,
    ranking: RankingConfig,
    candidate: CandidateModel,
    area: AreaModel,
    tables: Mapping[str, list[dict]],
    folds: int,
    seed: int,
) -> Calibration:
    """`base` with what was fitted, how, and the headline measurements."""
    return base.model_copy(
        update={
            "ranking": ranking,
            "candidate": candidate,
            "area": area,
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


def write_plots(
    report_dir: Path,
    confidence: FittedConfidence,
    areas: FittedAreas,
    queries: int,
    folds: int,
) -> list[str]:
    """The confidence's reliability diagram and the patent-area threshold curve, as PNGs."""
    from eval.areas import curve_plot

    reliability = report_dir / "reliability.png"
    reliability.parent.mkdir(parents=True, exist_ok=True)
    title = f"challenge-org: top-10 pairs of {queries} queries, {folds}-fold CV"
    conf.reliability_plot(confidence.pairs, reliability, title)
    curve = report_dir / "patent_area_curve.png"
    curve_plot(areas.curve, areas.cv_metrics, curve)
    return [str(reliability), str(curve)]


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
    tables: dict[str, list[dict]] = {
        "confidence": [{**conf.calibration_report(pairs), "capable_level": capable}]
    }
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
    tables["facet_ordering"] = measured.summary(
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
        quality = measured.summary(grades, {"run": run}, ["ndcg@10"], "run")[0]["ndcg@10"]
        rows.append({"facets scored": facets, "ndcg@10": quality,
                     **conf.calibration_report(pairs)})  # fmt: skip
    return rows


@dataclass(frozen=True)
class FittedAreas:
    """The area model fitted on all of `patent-area`; its CV figures and threshold curve."""

    model: AreaModel
    tables: dict[str, list[dict]]
    cv_metrics: dict[str, float]
    curve: list[dict[str, float]]


def tune_areas(
    data_dir,
    embedder: Embedder,
    ranking: RankingConfig,
    folds: int = DEFAULT_FOLDS,
    seed: int = DEFAULT_SEED,
) -> FittedAreas:
    """The area model fitted on all of `patent-area`, and its CV figures beside the baselines."""
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
    tables: dict[str, list[dict]] = {
        "patent_area": rows,
        "patent_area_curve": points,
        "patent_area_folds": cv.folds,
    }
    return FittedAreas(model, tables, cv.metrics, points)
