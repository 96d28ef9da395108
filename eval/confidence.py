"""The candidate confidence, fitted and measured on `challenge-org`, cross-validated.

Each query is scored as the engine scores it (`MatchEngine.rank` under a ranking configuration,
then `candidate_features`), for the whole text and, when the splitter finds several facets, for
each facet. A model is fitted on the whole-text pairs of the training queries (the top
`FIT_DEPTH` organisations plus every judged one; unjudged count as not capable, as in the
metrics); an organisation's confidence for a held-out query is its best over the whole text and
the facets; the run orders by confidence (the engine's order). Reports give the calibration of
the top-10 pairs shown, pooled, by kind of challenge (facets, length, domain) and leave one
domain out, which is what a programme posting a new kind of challenge would see.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from eval.cv import DEFAULT_FOLDS, DEFAULT_SEED, query_folds
from eval.dataset import Qrels
from eval.runner import QueryHits
from eval.runs import RunScores
from eval.thresholds import best_f1_threshold
from matcher.calibration import CANDIDATE_FEATURES, CandidateModel, RankingConfig
from matcher.calibration.candidate import candidate_features
from matcher.calibration.logistic import Logistic, fit_logistic
from matcher.fusion import ChannelScores, Method
from matcher.teams.facets import enumerated

FIT_DEPTH = 20
TOP_PAIRS = 10
Splits = Sequence[tuple[list[str], list[str]]]


@dataclass(frozen=True)
class Variant:
    """One query text (the whole challenge or one facet) scored: organisations and features."""

    orgs: list[str]
    features: dict[str, np.ndarray]


@dataclass(frozen=True)
class ScoredQuery:
    """A query's whole text and facets, scored under one ranking configuration."""

    whole: Variant
    facets: list[Variant]

    def confidence(self, model: CandidateModel, facets: bool = True) -> dict[str, float]:
        """Each organisation's confidence: its best over the whole text and (with `facets`)
        each facet."""
        best: dict[str, float] = {}
        for variant in [self.whole, *(self.facets if facets else [])]:
            if not variant.orgs:
                continue
            values = model.confidence(variant.features).tolist()
            for org, value in zip(variant.orgs, values, strict=True):
                best[org] = max(best.get(org, 0.0), value)
        return best

    @property
    def scores(self) -> dict[str, float]:
        return dict(zip(self.whole.orgs, self.whole.features["score"].tolist(), strict=True))


def facet_hits(queries: QueryHits) -> dict[str, list[tuple[str, dict[str, ChannelScores]]]]:
    """Each query's facets (when it has several) with their channel hits, retrieved once."""
    found = {}
    for qid, text in queries.texts.items():
        found[qid] = [(f.query, queries.engine.channel_hits(f.query)) for f in enumerated(text)]
    return found


def score_queries(
    queries: QueryHits,
    ranking: RankingConfig,
    facets: Mapping[str, list[tuple[str, dict[str, ChannelScores]]]] | None = None,
    texts: Mapping[str, str] | None = None,
    hits: Mapping[str, dict[str, ChannelScores]] | None = None,
) -> dict[str, ScoredQuery]:
    """Every query (default: the dataset's) scored under `ranking`, with its facets if given."""
    texts = texts if texts is not None else queries.texts
    hits = hits if hits is not None else queries.hits
    scored = {}
    for qid, text in texts.items():
        variants = [(text, hits[qid]), *(facets or {}).get(qid, [])]
        made = [_variant(queries, t, h, ranking) for t, h in variants]
        scored[qid] = ScoredQuery(made[0], made[1:])
    return scored


def _variant(
    queries: QueryHits, text: str, hits: dict[str, ChannelScores], ranking: RankingConfig
) -> Variant:
    scores = queries.engine.rank(text, hits, Method.hybrid, ranking).scores
    orgs = sorted(scores, key=lambda g: (-scores[g], g))
    return Variant(orgs, candidate_features(np.array([scores[g] for g in orgs]), hits))


def training_pairs(
    scored: Mapping[str, ScoredQuery], qrels: Qrels, qids: Iterable[str], features: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Whole-text pairs of `qids`: their top `FIT_DEPTH` and every judged organisation."""
    rows, labels = [], []
    for qid in qids:
        whole, judged = scored[qid].whole, qrels.get(qid, {})
        position = {org: i for i, org in enumerate(whole.orgs)}
        chosen = sorted(set(whole.orgs[:FIT_DEPTH]) | (judged.keys() & position.keys()),
                        key=position.__getitem__)  # fmt: skip
        for org in chosen:
            rows.append([whole.features[name][position[org]] for name in features])
            labels.append(judged.get(org, 0) > 0)
    return np.array(rows), np.array(labels)


def fit_model(
    scored: Mapping[str, ScoredQuery],
    qrels: Qrels,
    qids: Iterable[str],
    features: Sequence[str] = CANDIDATE_FEATURES,
    capable: float = 0.3,
) -> CandidateModel:
    """The candidate model fitted on `qids`, refused unless it rises with the score."""
    x, y = training_pairs(scored, qrels, qids, features)
    logistic: Logistic = fit_logistic(x, y, features)
    return CandidateModel(logistic=logistic, capable=capable).require_monotone()


def cross_validated(
    scored: Mapping[str, ScoredQuery],
    qrels: Qrels,
    splits: Splits,
    features: Sequence[str] = CANDIDATE_FEATURES,
    facets: bool = True,
) -> dict[str, dict[str, float]]:
    """Each held-out query's confidences from a model fitted without it."""
    confidence = {}
    for train, test in splits:
        model = fit_model(scored, qrels, train, features)
        confidence.update({q: scored[q].confidence(model, facets) for q in test})
    return confidence


def folds(qids: Iterable[str], k: int = DEFAULT_FOLDS, seed: int = DEFAULT_SEED) -> Splits:
    return query_folds(sorted(qids), k, seed)


def by_group(qids: Iterable[str], group_of: Callable[[str], str]) -> Splits:
    """Leave one group out: each group's queries held out once, the rest fitted."""
    qids = sorted(qids)
    groups = sorted({group_of(q) for q in qids})
    return [
        ([q for q in qids if group_of(q) != g], [q for q in qids if group_of(q) == g])
        for g in groups
    ]


def ordered_run(
    confidence: Mapping[str, Mapping[str, float]], scored: Mapping[str, ScoredQuery]
) -> RunScores:
    """Each query's organisations by confidence, then whole-text score (the engine's order)."""
    run = {}
    for qid, values in confidence.items():
        scores = scored[qid].scores
        order = sorted(values, key=lambda g: (-values[g], -scores.get(g, -np.inf), g))[:100]
        run[qid] = {org: -float(i) for i, org in enumerate(order)}
    return run


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


@dataclass(frozen=True)
class ShownPairs:
    """The top-10 (query, organisation) pairs a user would see, with confidence and grade."""

    qids: np.ndarray
    confidence: np.ndarray
    grades: np.ndarray  # -1 = unjudged
    rank: np.ndarray


def shown_pairs(
    run: RunScores, confidence: Mapping[str, Mapping[str, float]], qrels: Qrels
) -> ShownPairs:
    qids, values, grades, ranks = [], [], [], []
    for qid, ranking in run.items():
        for rank, org in enumerate(list(ranking)[:TOP_PAIRS]):
            qids.append(qid)
            values.append(confidence[qid][org])
            grades.append(qrels.get(qid, {}).get(org, -1))
            ranks.append(rank)
    return ShownPairs(np.array(qids), np.array(values), np.array(grades), np.array(ranks))


def calibration_report(pairs: ShownPairs) -> dict[str, float]:
    """ECE, means by grade, and how well the top-1 confidence flags queries with a capable
    (any grade ≥ 1) or a directly capable (grade 2) organisation."""
    from sklearn.metrics import roc_auc_score

    capable = pairs.grades > 0
    report: dict[str, float] = {
        "pairs": len(capable),
        "queries": len(set(pairs.qids.tolist())),
        "shown_mean": _round(pairs.confidence.mean()),
        "capable_rate": _round(capable.mean()),
        "ece": _round(expected_calibration_error(pairs.confidence, capable)),
        "brier": _round(((pairs.confidence - capable) ** 2).mean()),
    }
    for grade, name in ((2, "mean_grade2"), (1, "mean_grade1"), (0, "mean_grade0")):
        if (pairs.grades == grade).any():
            report[name] = _round(pairs.confidence[pairs.grades == grade].mean())
    first = pairs.rank == 0
    best = {q: pairs.grades[pairs.qids == q].max() for q in set(pairs.qids.tolist())}
    top1, qids = pairs.confidence[first], pairs.qids[first]
    for level, name in ((2, "top1_auc_grade2"), (1, "top1_auc_any")):
        truth = np.array([best[q] >= level for q in qids])
        if 0 < truth.sum() < len(truth):
            report[name] = _round(roc_auc_score(truth, top1))
    if 0 < capable.sum() < len(capable):
        report["pair_auc"] = _round(roc_auc_score(capable, pairs.confidence))
    return report


def report_by(
    pairs: ShownPairs, kind_of: Callable[[str], str], min_queries: int = 3
) -> dict[str, dict[str, float]]:
    """`calibration_report` per kind of query (kinds with fewer queries are pooled as other)."""
    kinds = {q: kind_of(q) for q in set(pairs.qids.tolist())}
    counts: dict[str, int] = {}
    for kind in kinds.values():
        counts[kind] = counts.get(kind, 0) + 1
    label = {q: k if counts[k] >= min_queries else "other" for q, k in kinds.items()}
    reports = {}
    for kind in sorted(set(label.values())):
        mask = np.array([label[q] == kind for q in pairs.qids.tolist()])
        subset = ShownPairs(
            pairs.qids[mask], pairs.confidence[mask], pairs.grades[mask], pairs.rank[mask]
        )
        reports[kind] = calibration_report(subset)
    return reports


def facet_kind(count: int) -> str:
    return "1 facet" if count <= 1 else ("2 facets" if count == 2 else "≥ 3 facets")


def length_kind(text: str) -> str:
    n = len(text.strip())
    return "≤ 20 chars" if n <= 20 else ("21–40 chars" if n <= 40 else "> 40 chars")


def composite_queries(
    texts: Mapping[str, str],
    qrels: Qrels,
    domain_of: Mapping[str, str],
    splits: Splits,
    size: int = 3,
) -> tuple[dict[str, str], Qrels, dict[str, tuple[str, ...]]]:
    """Appendix-style challenges made from real ones: within each held-out fold and domain,
    `size` titles (the text before any "：") joined with "、" — the way the
    appendix lists several technologies. An organisation's grade is its best over the parts
    (capable for one listed technology is capable for the challenge); unjudged everywhere
    stays unjudged. Ids say which parts: `C:<qid>+<qid>…`."""
    made: dict[str, str] = {}
    grades: Qrels = {}
    parts_of: dict[str, tuple[str, ...]] = {}
    for _, test in splits:
        by_domain: dict[str, list[str]] = {}
        for qid in sorted(test):
            by_domain.setdefault(domain_of[qid], []).append(qid)
        for qids in by_domain.values():
            for start in range(0, len(qids) - 1, size):
                parts = tuple(qids[start : start + size])
                if len(parts) < 2:
                    continue
                cid = "C:" + "+".join(parts)
                made[cid] = "、".join(texts[q].split("：")[0] for q in parts)
                merged: dict[str, int] = {}
                for q in parts:
                    for org, grade in qrels.get(q, {}).items():
                        merged[org] = max(merged.get(org, 0), grade)
                grades[cid] = merged
                parts_of[cid] = parts
    return made, grades, parts_of


def capable_level(confidence: np.ndarray, outcome: np.ndarray) -> float:
    """The confidence threshold (0.10 … 0.90) with the best F1 for "capable" over the pairs (CV
    confidences); 0.5 when no threshold makes one right decision."""

    def f1_at(threshold: float) -> float:
        predicted = confidence >= threshold
        hits = (predicted & outcome).sum()
        if not hits:
            return -1.0
        precision, recall = hits / predicted.sum(), hits / outcome.sum()
        return 2 * precision * recall / (precision + recall)

    level, f1 = best_f1_threshold(np.round(np.arange(0.1, 0.91, 0.01), 2), f1_at)
    return level if f1 > 0 else 0.5


def reliability_plot(pairs: ShownPairs, path, title: str) -> None:
    """A reliability diagram (mean confidence vs observed rate per bin, with counts) as PNG."""
    from matplotlib.figure import Figure

    from corpus.figures import figure_style

    confidence, outcome = pairs.confidence, pairs.grades > 0
    which = np.minimum((confidence * 10).astype(int), 9)
    centres, rates, counts = [], [], []
    for b in range(10):
        mask = which == b
        if mask.any():
            centres.append(confidence[mask].mean())
            rates.append(outcome[mask].mean())
            counts.append(int(mask.sum()))
    with figure_style():
        fig = Figure(figsize=(5.5, 4.2), layout="constrained")
        axes = fig.subplots()
        axes.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="perfect")
        axes.plot(centres, rates, marker="o", label="jiebang (cross-validated)")
        for x, y, n in zip(centres, rates, counts, strict=True):
            axes.annotate(str(n), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7)
        axes.set_xticks(np.linspace(0, 1, 11))
        axes.set_xlim(0, 1)
        axes.set_ylim(0, 1)
        axes.set_xlabel("confidence (P can contribute)")
        axes.set_ylabel("share of grade ≥ 1")
        axes.set_title(title, fontsize=9)
        axes.legend(loc="upper left", fontsize=8)
        fig.savefig(path, dpi=120)


def _round(value: float) -> float:
    return round(float(value), 4)
