"""A sentence-transformers model converted once to OpenVINO IR, with its tokenizer.

The transformer is converted with `openvino.convert_model` (mean pooling and normalisation are
done by the encoder, as the model's own modules do) into
`<models_dir>/openvino/<model>-<fingerprint>-r<RECIPE>/` under a lock, in a staging folder
renamed into place. The tokenizer is saved beside the IR, so running it needs neither torch nor
transformers.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sys
import warnings
from pathlib import Path

from embed.exported import exported_folder, save_tokenizer, transformer_module

OPENVINO_FOLDER = "openvino"
OPENVINO_XML = "model.xml"
# 2: the tokenizer travels with the IR (recipe 1 folders, without it, are left unused).
RECIPE = 2


def ir_folder(model_path: str, models_dir: Path) -> Path:
    """Where the OpenVINO IR of `model_path` (a folder or a hub name) lives."""
    return exported_folder(OPENVINO_FOLDER, model_path, models_dir, RECIPE)


def ensure_ir(model_path: str, folder: Path) -> Path:
    """The IR of `model_path`'s transformer in `folder`, converted once (locked, staged)."""
    xml = folder / OPENVINO_XML
    if xml.exists():
        return xml
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not xml.exists():
            _convert(model_path, folder)
    return xml


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
