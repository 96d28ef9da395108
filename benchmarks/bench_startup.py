"""Start-up of a fresh `jiebang match` process, this tree against a baseline commit (issue 25).

Each round runs `python -m service.cli match TEXT --top 3` once in a checkout of the baseline
(`git archive REV`, the same virtual environment) and once in this tree, alternating, on the demo
index. Every TEXT is new (a random suffix), so its vector is not in the embedding cache and the
model must encode it, as for an analyst's own text; with `--cached` a catalogue challenge is
matched instead (its vector cached). Reports wall time and peak RSS of each process (wait4),
medians, and the ratio.

Run: .venv/bin/python benchmarks/bench_startup.py --baseline db186d8 [--rounds 7]
[--home .jiebang/test-home] (the model must be materialised and converted there already).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def checkout(rev: str, into: Path) -> Path:
    """The tree of `rev`, extracted (not a worktree: nothing of the repository changes)."""
    archive = subprocess.run(["git", "archive", rev], cwd=REPO, check=True, capture_output=True)
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into


def run_once(tree: Path, args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one `python -m service.cli …` in `tree`."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli", *args],
        cwd=tree,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{tree}: {' '.join(args)} failed: {process.stderr.read().decode()}")
    process.stderr.close()
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="commit to compare against")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--home", type=Path, default=REPO / ".jiebang" / "test-home")
    parser.add_argument("--cached", action="store_true", help="match ZJ2021-09-01 (cached)")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="jiebang-startup-") as tmp:
        env = dict(
            os.environ,
            JIEBANG_HOME=str(options.home.resolve()),
            JIEBANG_INDEX_DIR=str(Path(tmp) / "index"),
            HF_HUB_OFFLINE="1",
            COLUMNS="100",
        )
        subprocess.run(
            [sys.executable, "-m", "service.cli", "index", "build"],
            cwd=REPO,
            env=env,
            check=True,
            capture_output=True,
        )
        trees = {
            options.baseline: checkout(options.baseline, Path(tmp) / "baseline"),
            "this tree": REPO,
        }
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
        rng = random.Random(25)
        for _ in range(options.rounds):
            for name, tree in trees.items():
                text = f"高温合金真空感应熔炼与纯净化冶炼技术{rng.randrange(10**9)}"
                cached = ["match", "--challenge", "ZJ2021-09-01"]
                args = cached if options.cached else ["match", text]
                results[name].append(run_once(tree, [*args, "--top", "3"], env))
    base = statistics.median(w for w, _ in results[options.baseline])
    print("| tree | wall (s), each round | median wall | peak RSS median (MB) | vs baseline |")
    print("|---|---|---|---|---|")
    for name, runs in results.items():
        walls = [w for w, _ in runs]
        median = statistics.median(walls)
        rss = statistics.median(r for _, r in runs)
        listed = ", ".join(f"{w:.1f}" for w in walls)
        print(f"| {name} | {listed} | {median:.2f} | {rss:.0f} | {base / median:.2f}× |")


if __name__ == "__main__":
    main()
