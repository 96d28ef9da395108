"""A sentence-transformers model converted once to OpenVINO IR, with its tokenizer.

The transformer is converted with `openvino.convert_model` (mean pooling and normalisation are
done by the encoder, as the model's own modules do) into
`<models_dir>/openvino/<model>-<fingerprint>-r<RECIPE>/` under a lock, in a staging folder
renamed into place. The tokenizer is saved beside the IR, so running it needs neither torch nor
transformers.

Its int8 twin (`model-int8.xml`, made from the IR on first use: `ensure_ir(..., int8=True)`) is
NNCF's static post-training quantisation for transformers: every linear layer's weights per
channel and its input activations per tensor in int8 (SmoothQuant first, then bias correction),
the activation ranges calibrated on the texts the repository ships (`calibration_texts`). On
CPUs with int8 dot products (VNNI) those layers run as int8 matrix products; chosen by measurement
(`benchmarks/bench_backends.py`, BENCHMARKS.md "ONNX Runtime backends").
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sys
import warnings
from pathlib import Path

import numpy as np

from embed.exported import (
    TextTokenizer,
    exported_folder,
    read_meta,
    save_tokenizer,
    transformer_module,
)

OPENVINO_FOLDER = "openvino"
OPENVINO_XML = "model.xml"
INT8_XML = "model-int8.xml"
# 2: the tokenizer travels with the IR (recipe 1 folders, without it, are left unused).
# 3: the encoder pads to a multiple of `PAD_MULTIPLE` tokens (new vectors, same files).
RECIPE = 3
# OpenVINO prepares its kernels for each input shape it has not seen (~30 ms on these cores):
# lengths rounded up to a multiple of 8 bound the shapes a query can have, so that a server can
# prepare them all before its first query (`OpenVinoEncoder.warm`). Padding is masked: vectors
# move by cosine ≥ 0.9999 (int8; 132 catalogue and patent texts) and a text's vector is the
# same alone or in a batch of its padded length (BENCHMARKS.md).
PAD_MULTIPLE = 8


def ir_folder(model_path: str, models_dir: Path) -> Path:
    """Where the OpenVINO IR of `model_path` (a folder or a hub name) lives."""
    return exported_folder(OPENVINO_FOLDER, model_path, models_dir, RECIPE)


def ensure_ir(model_path: str, folder: Path, *, int8: bool = False) -> Path:
    """The IR (or its int8 twin) of `model_path`'s transformer in `folder`, made once (locked,
    staged)."""
    xml = folder / (INT8_XML if int8 else OPENVINO_XML)
    if xml.exists():
        return xml
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / OPENVINO_XML).exists():
            _convert(model_path, folder)
        if int8 and not xml.exists():
            _quantise(folder)
    return xml


def ir_feeds(tokens: dict[str, np.ndarray], names: set[str]) -> dict[str, np.ndarray]:
    """The IR's inputs (`names`) from `TextTokenizer` output: token types are all zero."""
    feeds = {name: tokens[name] for name in names if name in tokens}
    if "token_type_ids" in names:
        feeds["token_type_ids"] = np.zeros_like(tokens["input_ids"])
    return feeds


def _convert(model_path: str, folder: Path) -> None:
    import openvino
    import torch
    from sentence_transformers import SentenceTransformer

    print(f"converting the model for OpenVINO (once, ~30 s) → {folder}", file=sys.stderr)
    model = SentenceTransformer(model_path, device="cpu").eval()
    staging = folder.with_name(f".{folder.name}.{os.getpid()}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    first = transformer_module(model)
    transformer = first.auto_model.eval()
    example = first.tokenizer(["query: 示例文本"], return_tensors="pt")
    example = {k: v for k, v in example.items() if k in ("input_ids", "attention_mask")}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracing warnings about shapes; inputs are dynamic
        converted = openvino.convert_model(transformer, example_input=example)
    openvino.save_model(converted, str(staging / OPENVINO_XML), compress_to_fp16=False)
    save_tokenizer(model, staging, recipe=RECIPE)
    os.replace(staging, folder)


def calibration_texts() -> list[tuple[str, str]]:
    """(kind, text) pairs the int8 activation ranges are fitted on, all shipped in the repository:
    the illustrative organisations' capability statements and the seed appendix's areas as
    passages, the catalogue's challenges as queries. Never user data: the model stays the same
    whatever was indexed."""
    from corpus.catalogue import builtin_catalogue
    from corpus.demo import demo_organisations_path
    from corpus.loaders import load_organisations

    catalogue = builtin_catalogue()
    organisations = load_organisations(demo_organisations_path()).records
    return (
        [("passage", organisation.capability) for organisation in organisations]
        + [("passage", area.text) for area in catalogue.areas]
        + [("query", challenge.text) for challenge in catalogue.challenges]
    )


def _quantise(folder: Path) -> None:
    import nncf
    import openvino

    print(f"quantising the OpenVINO model to int8 (once, ~30 s) → {folder}", file=sys.stderr)
    tokenizer = TextTokenizer(folder)
    model = openvino.Core().read_model(str(folder / OPENVINO_XML))
    names = {port.any_name for port in model.inputs}
    prompts = read_meta(folder)["prompts"]
    texts = calibration_texts()  # one text per feed: no padding in the ranges
    feeds = [ir_feeds(tokenizer([prompts[kind] + text]), names) for kind, text in texts]
    nncf.set_log_level(40)  # errors only
    with contextlib.redirect_stdout(sys.stderr):  # its progress bars; stdout may carry JSON
        quantised = nncf.quantize(
            model,
            nncf.Dataset(feeds),
            model_type=nncf.ModelType.TRANSFORMER,
            subset_size=len(feeds),
        )
    staging = folder / f".{INT8_XML}.{os.getpid()}.partial.xml"
    openvino.save_model(quantised, str(staging), compress_to_fp16=False)
    os.replace(staging.with_suffix(".bin"), (folder / INT8_XML).with_suffix(".bin"))
    os.replace(staging, folder / INT8_XML)  # the .xml last: it marks the pair complete
