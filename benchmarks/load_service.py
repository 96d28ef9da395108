"""Load test of the HTTP service: N concurrent clients on loopback for a fixed time.

Starts `jiebang serve` (the product's own entry point) as a child process with private database,
index and jobs folders (model and embedding cache from --home), waits until it is ready, then
runs closed-loop clients from this process (a second process on loopback) on a mix of requests:

- 40 % POST /match with text no one asked before (a real query encoding each time),
- 30 % GET /challenges/{id}/candidates (a catalogue challenge; ranking stored in the database),
- 15 % GET /challenges,
- 15 % GET /organisations/{id}.

With `--writes`, writers join the readers: 4 % upserts of an organisation (POST /organisations
?replace=true, re-embedding its capability under the write lock) and 1 % bulk-job submissions
(POST /patents/match, 5 patents). Reads that started while a write was in flight are reported
apart ("… during a write"): what a reader pays for a queued writer.

Prints throughput, latency percentiles per kind and overall, and the error count, as Markdown.

    .venv/bin/python benchmarks/load_service.py --clients 50 --seconds 60 [--writes]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]
MIX = (("match", 0.40), ("candidates", 0.30), ("challenges", 0.15), ("organisation", 0.15))
WRITE_MIX = (("upsert", 0.04), ("job", 0.01))
KEY = "load-test"
JOB_ROW = {"title": "一种高温合金", "abstract": "本发明公开了一种高温合金的真空熔炼方法。"}
JOB_FILE = "".join(
    json.dumps({**JOB_ROW, "id": f"L{i}", "applicants": ["某某研究院"]}, ensure_ascii=False) + "\n"
    for i in range(5)
).encode()
VARIANTS = ("关键技术", "工艺优化", "国产化替代", "产业化应用", "可靠性提升", "检测方法")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(home: Path, data: Path, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        JIEBANG_HOME=str(home),
        JIEBANG_INDEX_DIR=str(data / "index"),
        JIEBANG_DATABASE_URL=f"sqlite:///{data / 'jiebang.db'}",
        JIEBANG_JOBS_DIR=str(data / "jobs"),
        JIEBANG_API_KEY=KEY,
        HF_HUB_OFFLINE="1",
    )
    command = [sys.executable, "-m", "service.cli", "serve", "--demo", "--host", "127.0.0.1",
               "--port", str(port)]  # fmt: skip
    return subprocess.Popen(command, env=env, cwd=REPO)


def wait_ready(base: str, process: subprocess.Popen[bytes], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SystemExit("server not ready in time")


async def client_loop(
    client: httpx.AsyncClient,
    stop_at: float,
    challenges: list[dict],
    organisations: list[dict],
    rng: random.Random,
    latencies: dict[str, list[float]],
    errors: dict[str, int],
    mix: tuple[tuple[str, float], ...],
    writing: list[int],
) -> None:
    kinds, weights = zip(*mix, strict=True)
    while time.monotonic() < stop_at:
        kind = rng.choices(kinds, weights)[0]
        challenge = rng.choice(challenges)
        is_write = kind in dict(WRITE_MIX)
        during_write = bool(writing[0]) and not is_write
        writing[0] += is_write
        started = time.perf_counter()
        try:
            if kind == "match":
                text = f"{challenge['text']}{rng.choice(VARIANTS)}{rng.randrange(10**6)}"
                response = await client.post("/match", json={"text": text, "top": 10})
            elif kind == "candidates":
                response = await client.get(f"/challenges/{challenge['id']}/candidates")
            elif kind == "challenges":
                response = await client.get("/challenges")
            elif kind == "organisation":
                response = await client.get(f"/organisations/{rng.choice(organisations)['id']}")
            elif kind == "upsert":
                org = {**rng.choice(organisations)}
                org["capability"] = f"{org.get('capability', '')}{rng.choice(VARIANTS)}"
                params, headers = {"replace": "true"}, {"X-API-Key": KEY}
                response = await client.post(
                    "/organisations", params=params, json=org, headers=headers
                )
            else:
                files = {"file": ("p.jsonl", JOB_FILE)}
                response = await client.post(
                    "/patents/match", files=files, headers={"X-API-Key": KEY}
                )
            ok = response.status_code in (200, 201, 202)
            if not ok:
                print(f"{kind}: HTTP {response.status_code} {response.text[:200]}", file=sys.stderr)
        except httpx.HTTPError as error:
            ok = False
            print(f"{kind}: {type(error).__name__} {error}", file=sys.stderr)
        finally:
            writing[0] -= is_write
        latencies[kind].append(time.perf_counter() - started)
        if during_write:
            latencies[f"{kind} during a write"].append(time.perf_counter() - started)
        if not ok:
            errors[kind] += 1


async def run_load(
    base: str, clients: int, seconds: float, seed: int, writes: bool
) -> tuple[dict, dict, float]:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    mix = MIX + WRITE_MIX if writes else MIX
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        challenges = (await client.get("/challenges")).json()["challenges"]
        page = (await client.get("/organisations", params={"limit": 500})).json()
        organisations = [
            (await client.get(f"/organisations/{item['id']}")).json() for item in page["items"][:50]
        ]
        latencies: dict[str, list[float]] = defaultdict(list)
        errors: dict[str, int] = defaultdict(int)
        writing = [0]
        started = time.monotonic()
        stop_at = started + seconds
        await asyncio.gather(
            *(
                client_loop(
                    client,
                    stop_at,
                    challenges,
                    organisations,
                    random.Random(seed + i),
                    latencies,
                    errors,
                    mix,
                    writing,
                )
                for i in range(clients)
            )
        )
        return latencies, errors, time.monotonic() - started


def report(latencies: dict[str, list[float]], errors: dict[str, int], elapsed: float) -> str:
    def row(name: str, values: list[float], failed: int) -> str:
        ms = np.array(values) * 1000
        p50, p95, p99 = np.percentile(ms, [50, 95, 99]) if len(ms) else (0, 0, 0)
        rate = len(values) / elapsed
        cells = [name, len(values), f"{rate:.1f}", f"{p50:.0f}", f"{p95:.0f}", f"{p99:.0f}", failed]
        return "| " + " | ".join(str(cell) for cell in cells) + " |"

    lines = ["| requests | count | per second | p50 ms | p95 ms | p99 ms | errors |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    kinds = [kind for kind, _ in MIX + WRITE_MIX if kind in latencies]
    kinds += [f"{kind} during a write" for kind, _ in MIX if f"{kind} during a write" in latencies]
    for kind in kinds:
        lines.append(row(kind, latencies[kind], errors.get(kind, 0)))
    everything = [v for kind in latencies if "during" not in kind for v in latencies[kind]]
    lines.append(row("**all**", everything, sum(errors.values())))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--home", type=Path, default=REPO / ".jiebang" / "test-home",
                        help="JIEBANG_HOME with the model and the embedding cache")  # fmt: skip
    parser.add_argument("--url", help="Load an already running server instead of starting one")
    parser.add_argument("--writes", action="store_true", help="Add upserts and bulk jobs")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="jiebang-load-") as folder:
        process = None
        base = args.url
        if base is None:
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            process = start_server(args.home, Path(folder), port)
        try:
            wait_ready(base, process) if process else None
            latencies, errors, elapsed = asyncio.run(
                run_load(base, args.clients, args.seconds, args.seed, args.writes)
            )
        finally:
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
    total = sum(len(v) for kind, v in latencies.items() if "during" not in kind)
    print(f"{args.clients} clients, {elapsed:.1f} s, {total} requests, "
          f"{total / elapsed:.1f} requests/s, {sum(errors.values())} errors")  # fmt: skip
    print(report(latencies, errors, elapsed))
    if sum(errors.values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
