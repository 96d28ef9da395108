"""A sentence-transformers model as ONNX, exported once, and its int8 quantisation.

The export runs the model's whole pipeline (transformer, then its own pooling and normalisation
modules) through `torch.onnx.export` from a copy loaded with eager attention (an export of the
default sdpa attention measured cosine 0.99), then fuses the transformer's subgraphs with ONNX
Runtime's offline optimiser (attention, GELU, skip + layer norm), and checks the result against
sentence-transformers on texts from the seed's appendix (short challenges, whole areas, one
text past the length limit, with both prompts): below cosine `FAITHFUL_COSINE` it is refused.

int8 is ONNX Runtime's dynamic quantisation of that graph, chosen by measurement
(`benchmarks/bench_int8.py`, BENCHMARKS.md "ONNX Runtime backends"):
- weights int8 per output channel (per tensor: cosine 0.988 to fp32, per channel 0.997);
- the projections that read the feed-forward activation (GELU output, where transformers keep
  their outlier channels) stay fp32: quantised, they alone cost most of the error;
- weights in 7 bits (`reduce_range`): on CPUs without VNNI, ONNX Runtime's int8 kernel sums
  pairs of products in 16 bits, which can saturate with 8-bit weights and cannot with 7, so the
  vectors are the same on every x86 CPU as on the one they were measured on;
- the embedding table stays fp32.

Files live in `<models_dir>/onnx/<model>-<fingerprint>-r<RECIPE>/`, each written under a lock to
a staging name and renamed into place: concurrent processes export once, a crash leaves nothing
half-written.
"""

from __future__ import annotations

import fcntl
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from corpus.errors import JiebangError
from embed.exported import (
    exported_folder,
    read_meta,
    save_tokenizer,
    staging_path,
    transformer_module,
    write_meta,
)

ONNX_FOLDER = "onnx"
# Bump when the export or the quantisation changes: files and cached vectors are then remade.
RECIPE = 1
FP32_FILE = "model.onnx"
INT8_FILE = "model-int8.onnx"
CHECK_VECTORS = "check-vectors.npy"
FAITHFUL_COSINE = 0.9999
# A quantised model below this on the check texts is broken, not merely approximate (this model
# measures 0.999); the task-level gate is measured by benchmarks/bench_backends.py.
INT8_SANE_COSINE = 0.99
_OPSET = 17
_GELU_OPS = {"Gelu", "BiasGelu", "FastGelu", "QuickGelu"}


def onnx_folder(model_path: str, models_dir: Path) -> Path:
    """Where the ONNX files of `model_path` (a folder or a hub name) live."""
    return exported_folder(ONNX_FOLDER, model_path, models_dir, RECIPE)


def ensure_onnx(model_path: str, folder: Path, *, int8: bool) -> Path:
    """The fp32 (or int8) ONNX file of `model_path` in `folder`, made once."""
    wanted = folder / (INT8_FILE if int8 else FP32_FILE)
    if wanted.exists():
        return wanted
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / FP32_FILE).exists():
            _export(model_path, folder)
        if int8 and not wanted.exists():
            _quantise(folder)
    return wanted


def _export(model_path: str, folder: Path) -> None:
    import torch
    from sentence_transformers import SentenceTransformer

    print(f"exporting the model to ONNX (once, ~1 min) → {folder}", file=sys.stderr)
    model = SentenceTransformer(
        model_path, device="cpu", model_kwargs={"attn_implementation": "eager"}
    ).eval()
    transformer = transformer_module(model)
    example = transformer.tokenizer(["query: 示例", "passage: 较长一些的示例文本"], padding=True,
                                    return_tensors="pt")  # fmt: skip
    staging = staging_path(folder / FP32_FILE)
    dynamic = {0: "batch", 1: "sequence"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracing warnings about shapes; the axes are dynamic
        torch.onnx.export(
            _pipeline(model),
            (example["input_ids"], example["attention_mask"]),
            str(staging),
            input_names=["input_ids", "attention_mask"],
            output_names=["sentence_embedding"],
            dynamic_axes={
                "input_ids": dynamic,
                "attention_mask": dynamic,
                "sentence_embedding": {0: "batch"},
            },
            opset_version=_OPSET,
            dynamo=False,
        )
    _fuse(staging, transformer.auto_model.config)
    meta = save_tokenizer(model, folder, recipe=RECIPE)
    reference = _reference_vectors(model, meta["prompts"])
    cosine = _min_cosine(reference, staging, folder)
    if cosine < FAITHFUL_COSINE:
        staging.unlink()
        raise JiebangError(
            f"the ONNX export of {model_path} is not faithful (min cosine {cosine:.5f} to "
            f"sentence-transformers < {FAITHFUL_COSINE}); use JIEBANG_BACKEND=torch"
        )
    np.save(folder / CHECK_VECTORS, reference)
    write_meta(folder, {**meta, "fp32_min_cosine": round(cosine, 6)})
    os.replace(staging, folder / FP32_FILE)


def quantise(
    fp32: Path,
    out: Path,
    *,
    per_channel: bool = True,
    reduce_range: bool = True,
    keep_ffn: bool = True,
    embeddings: bool = False,
) -> None:
    """ONNX Runtime's dynamic int8 quantisation of `fp32` into `out`; the defaults are the
    shipped recipe (module docstring), the flags what `benchmarks/bench_int8.py` compares."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(fp32), load_external_data=False)
    quantize_dynamic(
        str(fp32),
        str(out),
        weight_type=QuantType.QInt8,
        per_channel=per_channel,
        reduce_range=reduce_range,
        op_types_to_quantize=["MatMul", "Attention"]
        + (["EmbedLayerNormalization", "Gather"] if embeddings else []),
        nodes_to_exclude=feed_forward_outputs(graph) if keep_ffn else [],
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def _quantise(folder: Path) -> None:
    print(f"quantising the ONNX model to int8 (once, ~30 s) → {folder}", file=sys.stderr)
    staging = staging_path(folder / INT8_FILE)
    quantise(folder / FP32_FILE, staging)
    cosine = _min_cosine(np.load(folder / CHECK_VECTORS), staging, folder)
    if cosine < INT8_SANE_COSINE:
        staging.unlink()
        raise JiebangError(
            f"int8 quantisation broke this model (min cosine {cosine:.4f} to fp32 < "
            f"{INT8_SANE_COSINE}); use JIEBANG_BACKEND=onnx"
        )
    write_meta(folder, {**read_meta(folder), "int8_min_cosine": round(cosine, 6)})
    os.replace(staging, folder / INT8_FILE)


def feed_forward_outputs(graph_model: Any) -> list[str]:
    """Names of the MatMuls that read a GELU's output: each layer's feed-forward projection."""
    producer = {out: node.op_type for node in graph_model.graph.node for out in node.output}
    return [
        node.name
        for node in graph_model.graph.node
        if node.op_type == "MatMul" and producer.get(node.input[0]) in _GELU_OPS
    ]


def _pipeline(model: Any) -> Any:
    """The transformer, called with keyword arguments (transformers 5), then the model's heads."""
    import torch

    class Pipeline(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer_module(model).auto_model
            self.heads = torch.nn.ModuleList(list(model)[1:])

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask)
            features = {
                "input_ids": input_ids,
                "attention_mask": attention_mask,
                "token_embeddings": hidden.last_hidden_state,
            }
            for head in self.heads:
                features = head(features)
            return features["sentence_embedding"]

    return Pipeline().eval()


def _fuse(path: Path, config: Any) -> None:
    """Fuse attention, GELU and layer norms in place (BERT-family encoders; others as they are)."""
    from onnxruntime.transformers.optimizer import optimize_model

    if config.model_type not in {"bert", "xlm-roberta", "roberta"}:
        return
    fused = optimize_model(
        str(path),
        model_type="bert",
        num_heads=config.num_attention_heads,
        hidden_size=config.hidden_size,
        opt_level=0,
    )
    fused.save_model_to_file(str(path))


def check_texts() -> list[str]:
    """Short challenges, whole appendix areas and one text past any length limit."""
    from corpus.catalogue import builtin_catalogue

    catalogue = builtin_catalogue()
    areas = [area.text for area in catalogue.areas]
    return [c.text for c in catalogue.challenges[::9]] + areas + ["".join(areas)]


# The check texts are encoded one at a time: in one batch the over-long text pads every short
# one to the length limit, and the check took six times as long.
def _reference_vectors(model: Any, prompts: dict[str, str]) -> np.ndarray:
    texts = check_texts()
    return np.vstack(
        [
            model.encode(texts, prompt=prompt, batch_size=1, normalize_embeddings=True)
            for prompt in prompts.values()
        ]
    )


def _min_cosine(reference: np.ndarray, path: Path, folder: Path) -> float:
    from embed.backends import OnnxEncoder

    encoder = OnnxEncoder(path, folder)
    texts = check_texts()
    prompts = read_meta(folder)["prompts"].values()
    vectors = np.vstack([encoder.encode([text], prompt) for prompt in prompts for text in texts])
    return float((reference * vectors).sum(axis=1).min())
