"""`patent-area`: bulk matching judged at its own threshold, and the area model's fit.

The dev set (`shared/data/patent_area/labels.jsonl`) labels 600 BDCI patents with the appendix
rows (1–15) they directly address, or none (118 have one). The system reports at most one area
per patent (`top=1`), when P(addresses the area) reaches its threshold; a reported area is a true
positive when the patent carries it. Precision, recall and F1 are micro-averaged over the
(patent, area) decisions, as the dataset README defines them.

Everything the area model fits is cross-validated (`cross_validate`, 5 folds over patents, fixed
seed; the supervised directions' regularisation is chosen inside each training fold). Baselines
run in the same pass, each at its best threshold on the set itself (the oracle, so optimistic):
dense and character TF-IDF cosine to each area's full appendix row, and their z-fusion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpus.catalogue import Catalogue
from corpus.errors import DataError
from corpus.loaders import iter_records
from corpus.models import Patent
from embed.embedder import Embedder
from embed.lexical_index import LexicalIndex
from eval.cv import DEFAULT_FOLDS, DEFAULT_SEED, query_folds
from eval.thresholds import best_f1_threshold
from matcher.areas import ChallengeIndex, Retrieved
from matcher.calibration import AREA_FEATURES, AreaModel, Calibration
from matcher.calibration.logistic import fit_logistic

AREAS = tuple(range(1, 16))
SUPERVISED_C = (30.0, 100.0, 300.0, 1000.0)
UNLABELLED_BIAS = -10.0
WINDOW = 64


@dataclass(frozen=True)
class PatentAreaSet:
    """The labelled patents, and which areas each addresses (patents × `AREAS`)."""

    patents: list[Patent]
    gold: np.ndarray
    source: str

    def summary(self) -> dict[str, object]:
        """Sizes, in the shape of `Dataset.summary` (the patents are the queries)."""
        return {
            "name": "patent-area",
            "corpus": len(self.patents),
            "candidates": int(self.gold.shape[1]),
            "grouped": False,
            "queries": len(self.patents),
            "judged_queries": int(self.gold.any(axis=1).sum()),
            "qrels": int(self.gold.sum()),
        }


def load_patent_area(data_dir: str | Path) -> PatentAreaSet:
    """Read the labels and join them to the BDCI patents; a bad line names file and line."""
    data_dir = Path(data_dir)
    by_id = {
        row["id"]: row for _, row in iter_records(data_dir / "bdci2022_patents" / "patents.jsonl")
    }
    labels = data_dir / "patent_area" / "labels.jsonl"
    patents, gold = [], []
    for line, row in iter_records(labels):
        record = by_id.get(row.get("id"))
        if record is None:
            raise DataError(labels, line, f"unknown patent id {row.get('id')!r}")
        numbers = row.get("area_nos")
        if not isinstance(numbers, list) or any(n not in AREAS for n in numbers):
            raise DataError(labels, line, "'area_nos' must list appendix rows 1–15")
        patents.append(
            Patent(
                id=record["id"],
                title=record["title"],
                abstract=record["abstract"],
                applicants=[record["assignee"]],
            )
        )
        gold.append([n in numbers for n in AREAS])
    if not patents:
        raise DataError(labels, None, "no labelled patents")
    return PatentAreaSet(patents, np.array(gold, dtype=bool), str(labels))


def retrieve_set(index: ChallengeIndex, patents: Sequence[Patent]) -> Retrieved:
    """Bulk retrieval for every patent, window by window (as a bulk run encodes them)."""
    return Retrieved.concatenate(
        [
            index.retrieve([p.text for p in patents[start : start + WINDOW]])
            for start in range(0, len(patents), WINDOW)
        ]
    )


def decide(probability: np.ndarray, threshold: float) -> np.ndarray:
    """Top-1 decisions: (patents × areas) bool, at most one True per row."""
    best = probability.argmax(axis=1)
    out = np.zeros_like(probability, dtype=bool)
    keep = probability[np.arange(len(best)), best] >= threshold
    out[np.flatnonzero(keep), best[keep]] = True
    return out


def decide_each(probability: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Top-1 decisions where each patent has its own threshold (its CV fold's)."""
    best = probability.argmax(axis=1)
    out = np.zeros_like(probability, dtype=bool)
    keep = probability[np.arange(len(best)), best] >= thresholds
    out[np.flatnonzero(keep), best[keep]] = True
    return out


def prf(predicted: np.ndarray, gold: np.ndarray) -> dict[str, float]:
    """Micro precision, recall and F1 of (patent, area) decisions."""
    hits = int((predicted & gold).sum())
    precision = hits / predicted.sum() if predicted.sum() else 0.0
    recall = hits / gold.sum() if gold.sum() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return {"f1": round(f1, 4), "precision": round(precision, 4), "recall": round(recall, 4)}


def best_threshold(scores: np.ndarray, gold: np.ndarray) -> tuple[float, dict[str, float]]:
    """The top-1 threshold with the best F1 on (`scores`, `gold`), and that F1."""
    best, _ = best_f1_threshold(
        np.unique(scores.max(axis=1)), lambda t: prf(decide(scores, t), gold)["f1"]
    )
    return best, prf(decide(scores, best), gold)


def fit_area_model(
    features: np.ndarray, vectors: np.ndarray, gold: np.ndarray, c: float, seed: int = DEFAULT_SEED
) -> AreaModel:
    """Directions (one logistic per area on the vectors), then the decision model and threshold.

    The decision model is fitted on out-of-fold direction logits, so it learns how far to trust
    a direction on patents it was not fitted on.
    """
    supervised = np.zeros(gold.shape)
    for train, test in _folds(len(gold), 4, seed + 1):
        weights, bias = _directions(vectors[train], gold[train], c)
        supervised[test] = vectors[test] @ weights.T + bias
    stacked = np.concatenate([features, supervised[:, :, None]], axis=2)
    logistic = fit_logistic(stacked.reshape(-1, len(AREA_FEATURES)), gold.ravel(), AREA_FEATURES)
    probability = logistic.probability(stacked.reshape(-1, len(AREA_FEATURES))).reshape(gold.shape)
    threshold, _ = best_threshold(probability, gold)
    weights, bias = _directions(vectors, gold, c)
    return AreaModel(
        areas=list(AREAS),
        vectors=weights.tolist(),
        bias=bias.tolist(),
        logistic=logistic,
        threshold=round(threshold, 4),
    )


def _directions(vectors: np.ndarray, gold: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    weights = np.zeros((gold.shape[1], vectors.shape[1]))
    # An area no labelled patent addresses gets no direction and a bias that rules it out: on
    # patent-area every way tried of letting retrieval alone report such areas cost F1
    # (EVALUATION.md, "Areas without labels").
    bias = np.full(gold.shape[1], UNLABELLED_BIAS)
    for a in range(gold.shape[1]):
        if gold[:, a].any() and not gold[:, a].all():
            model = LogisticRegression(C=c, max_iter=5000).fit(vectors, gold[:, a])
            weights[a], bias[a] = model.coef_[0], model.intercept_[0]
    return weights, bias


def choose_c(features: np.ndarray, vectors: np.ndarray, gold: np.ndarray, seed: int) -> float:
    """The directions' regularisation with the best inner-CV F1 at the fitted threshold."""

    def inner_f1(c: float) -> float:
        probability = np.zeros(gold.shape)
        thresholds = np.zeros(len(gold))
        for train, test in _folds(len(gold), 4, seed + 2):
            model = fit_area_model(features[train], vectors[train], gold[train], c, seed)
            probability[test] = model.probability_for(features[test], vectors[test])
            thresholds[test] = model.threshold
        return prf(decide_each(probability, thresholds), gold)["f1"]

    return max(SUPERVISED_C, key=inner_f1)


@dataclass(frozen=True)
class AreaCV:
    """Cross-validated area decisions: pooled probabilities, each fold's threshold and C."""

    probability: np.ndarray
    thresholds: np.ndarray  # per patent: its fold's threshold
    folds: list[dict]
    metrics: dict[str, float]


def cross_validate(
    scores: Retrieved, gold: np.ndarray, *, folds: int = DEFAULT_FOLDS, seed: int = DEFAULT_SEED
) -> AreaCV:
    """Fit on k−1 folds (C chosen inside them), decide the held-out fold at its threshold."""
    probability = np.zeros(gold.shape)
    thresholds = np.zeros(len(gold))
    record = []
    for train, test in _folds(len(gold), folds, seed):
        c = choose_c(scores.features[train], scores.vectors[train], gold[train], seed)
        model = fit_area_model(scores.features[train], scores.vectors[train], gold[train], c, seed)
        probability[test] = model.probability_for(scores.features[test], scores.vectors[test])
        thresholds[test] = model.threshold
        record.append({"c": c, "threshold": model.threshold})
    return AreaCV(probability, thresholds, record, prf(decide_each(probability, thresholds), gold))


def _folds(n: int, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """`eval.cv.query_folds` over row numbers 0 … n−1."""
    ids = [f"{i:06d}" for i in range(n)]
    return [
        (np.array([int(i) for i in train]), np.array([int(i) for i in test]))
        for train, test in query_folds(ids, k, seed)
    ]


def baselines(
    embedder: Embedder, catalogue: Catalogue, patents: Sequence[Patent], gold: np.ndarray
) -> dict[str, dict[str, float]]:
    """Oracle-threshold F1 of dense, TF-IDF and z-fusion scores to each area's appendix row."""
    rows = {area.no: f"{area.name}：{area.text}" for area in catalogue.areas}
    area_texts = [rows[no] for no in AREAS]
    texts = [p.text for p in patents]
    dense = embedder.encode_passages(texts, progress=False) @ embedder.encode_queries(area_texts).T
    lexical = LexicalIndex()
    lexical.add(np.arange(len(texts)), texts)
    tfidf = np.stack([lexical.scores(text)[1] for text in area_texts], axis=1)
    fused = _zscore(dense) + _zscore(tfidf)
    out = {}
    for name, scores in (("dense (area row)", dense), ("tfidf (area row)", tfidf),
                         ("z-fusion (area row)", fused)):  # fmt: skip
        threshold, metrics = best_threshold(scores, gold)
        out[name] = {**metrics, "threshold": round(threshold, 4)}
    return out


def _zscore(scores: np.ndarray) -> np.ndarray:
    """Standardise each area's column over the patents."""
    return (scores - scores.mean(axis=0)) / np.where(scores.std(axis=0) > 0, scores.std(axis=0), 1)


def curve(probability: np.ndarray, gold: np.ndarray) -> list[dict[str, float]]:
    """The threshold-free view: precision, recall and F1 at every threshold step of 0.05."""
    return [
        {"threshold": round(float(t), 2), **prf(decide(probability, t), gold)}
        for t in np.arange(0.05, 1.0, 0.05)
    ]


def curve_plot(points: list[dict[str, float]], system: dict[str, float], path: Path) -> None:
    """Precision–recall as the threshold moves, with the system's own operating point."""
    from matplotlib.figure import Figure

    from corpus.figures import figure_style

    with figure_style():
        fig = Figure(figsize=(5.5, 4.2), layout="constrained")
        axes = fig.subplots()
        axes.plot([p["recall"] for p in points], [p["precision"] for p in points], marker=".",
                  label="threshold 0.05 … 0.95 (CV probabilities)")  # fmt: skip
        axes.scatter([system["recall"]], [system["precision"]], color="tab:red", zorder=3,
                     label=f"own threshold: F1 {system['f1']:.3f}")  # fmt: skip
        axes.set_xlim(0, 1)
        axes.set_ylim(0, 1)
        axes.set_xlabel("recall")
        axes.set_ylabel("precision")
        axes.set_title("patent-area: top-1 area decisions, 5-fold CV", fontsize=9)
        axes.legend(fontsize=8)
        fig.savefig(path, dpi=120)


def evaluate_shipped(data_dir: str | Path, embedder: Embedder, calibration: Calibration) -> dict:
    """`jiebang eval run --dataset patent-area`: the CV figure, the shipped model, baselines.

    The shipped area model was fitted on this very set, so its own figure is in-sample; the
    cross-validated one (refitted fold by fold, as `jiebang eval tune` does) is the one to quote.
    """
    from corpus.catalogue import builtin_catalogue

    calibration.require_model(embedder.model_id)
    catalogue = builtin_catalogue()
    labelled = load_patent_area(data_dir)
    index = ChallengeIndex(embedder, catalogue.challenges, calibration.ranking, AREAS)
    retrieved = retrieve_set(index, labelled.patents)
    report: dict = {
        "dataset": "patent-area",
        "patents": len(labelled.patents),
        "with_an_area": int(labelled.gold.any(axis=1).sum()),
        "cross_validated": cross_validate(retrieved, labelled.gold).metrics,
    }
    if calibration.area is not None:
        probability = calibration.area.probability_for(retrieved.features, retrieved.vectors)
        shipped = prf(decide(probability, calibration.area.threshold), labelled.gold)
        report["shipped_in_sample"] = {**shipped, "threshold": calibration.area.threshold}
    report["baselines_oracle_threshold"] = baselines(
        embedder, catalogue, labelled.patents, labelled.gold
    )
    return report
