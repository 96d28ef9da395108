"""Scale-out on Ray (issue 15): bulk matching locally and on 1 and 2 Ray workers, same run.

    .venv/bin/python benchmarks/bench_ray.py [--n 400] [--window 512]

Starts a Ray head on 127.0.0.1 with this machine's CPUs, then times `jiebang patents match` on
the first `--n` real BDCI patents (each made unique, and a fresh embedding cache per run, so
every text is encoded): `--engine local`, then `--engine ray --workers 1` and `2`. The rate
excludes start-up (model loading, actor start): it is taken from the rows done between the
first and last checkpoint. Outputs are checked byte-identical. Prints Markdown for BENCHMARKS.md
and stops the Ray head. Needs ../shared/data.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from service.settings import Settings

PATENTS = Settings().data_dir / "bdci2022_patents" / "patents.jsonl"
HOME = Path("~/.cache/jiebang").expanduser()
BIN = Path(sys.executable).parent


def steady_rate(command: list[str], env: dict[str, str], out: Path) -> tuple[float, float]:
    """(rows/s between the first and the last checkpoint, wall seconds) of one CLI run."""
    checkpoint = out.with_name(out.name + ".checkpoint.json")
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    marks: list[tuple[float, int]] = []
    while process.poll() is None:
        try:
            done = json.loads(checkpoint.read_text())["rows_done"]
        except (FileNotFoundError, ValueError, KeyError):
            done = 0
        if done and (not marks or marks[-1][1] != done):
            marks.append((time.perf_counter(), done))
        time.sleep(0.05)
    if process.returncode:
        raise SystemExit(process.stderr.read().decode()[-2000:])
    wall = time.perf_counter() - started
    done = json.loads(checkpoint.read_text())["rows_done"]
    if marks and marks[-1][1] != done:
        marks.append((time.perf_counter(), done))
    (t0, r0), (t1, r1) = marks[0], marks[-1]
    return (r1 - r0) / (t1 - t0), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--window", type=int, default=256)
    args = parser.parse_args()
    if not PATENTS.exists():
        raise SystemExit(f"{PATENTS} is absent: this benchmark needs ../shared/data")
    cpus = os.cpu_count() or 1
    print(f"load average before: {os.getloadavg()[0]:.1f} on {cpus} CPUs\n")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        nonce = uuid.uuid4().hex[:8]
        source = folder / "patents.jsonl"
        with PATENTS.open(encoding="utf-8") as rows, source.open("w", encoding="utf-8") as out:
            for _, line in zip(range(args.n), rows, strict=False):
                row = json.loads(line)
                row["abstract"] += f"（{nonce}）"
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        subprocess.run(
            [BIN / "ray", "start", "--head", f"--num-cpus={cpus}", "--node-ip-address=127.0.0.1",
             f"--port={port}", "--include-dashboard=false", "--disable-usage-stats"],
            check=True, env=base, capture_output=True,
        )  # fmt: skip
        try:
            runs = {"local": []}
            runs |= {f"ray, {w} worker{'s' if w > 1 else ''}": ["--engine", "ray",
                     "--address", f"127.0.0.1:{port}", "--workers", str(w)]
                     for w in (1, 2)}  # fmt: skip
            results, outputs = {}, {}
            for name, extra in runs.items():
                home = folder / name.replace(" ", "_").replace(",", "")
                env = {**base, "JIEBANG_HOME": str(home)}
                env["JIEBANG_MODELS_DIR"] = str(HOME / "models")
                out = home / "out.jsonl"
                home.mkdir()
                command = [str(BIN / "jiebang"), "patents", "match", str(source), "--out",
                           str(out), "--window", str(args.window), *extra]  # fmt: skip
                results[name] = steady_rate(command, env, out)
                outputs[name] = out.read_bytes()
        finally:
            subprocess.run([BIN / "ray", "stop", "--force"], env=base, capture_output=True)
    local = results["local"][0]
    print(f"Bulk matching, {args.n} real BDCI patents, window {args.window}, {cpus} CPUs:\n")
    print("| engine | patents/s (steady) | wall incl. start-up (s) | vs local | output identical |")
    print("|---|---|---|---|---|")
    for name, (rate, wall) in results.items():
        same = outputs[name] == outputs["local"]
        print(f"| {name} | {rate:.1f} | {wall:.0f} | {rate / local:.2f}× | {same} |")
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
