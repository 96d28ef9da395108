"""Encoding backends: the same sentence-transformers model, run by torch or by OpenVINO.

`torch` runs the model as sentence-transformers loads it (fp32). `openvino` runs it through
Intel's OpenVINO runtime (`pip install openvino`): the transformer is converted once, on first
use, into an IR beside the materialised models (`<models_dir>/openvino/<model>-<fingerprint>/`,
locked, staged, renamed; a retrained model folder gets a new fingerprint), and mean pooling and
L2 normalisation are done here, as the model's own modules do. OpenVINO picks its precision by
CPU (bf16 where the CPU has it, fp32 otherwise: cosine 1.00000 to torch measured here); either
way its vectors agree with torch fp32 at cosine ≥ 0.999 (the quality gate,
`tests/embed/test_backends.py`, BENCHMARKS.md), so the two are *compatible*:
an index built with one loads with the other, and they share the calibration.

`Backend.default()` is the fastest backend that passes the gate here: OpenVINO when it is
installed, else torch.
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import re
import shutil
import sys
import warnings
from collections.abc import Callable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

from embed.model_store import model_fingerprint

OPENVINO_FOLDER = "openvino"
OPENVINO_XML = "model.xml"


class Backend(StrEnum):
    torch = "torch"
    openvino = "openvino"

    @classmethod
    def default(cls) -> Backend:
        """The fastest backend that passes the quality gate on this machine."""
        # Asked at every settings read: look for the package without importing it (≈ 1 s).
        return cls.openvino if importlib.util.find_spec("openvino") else cls.torch

    @classmethod
    def from_str(cls, value: str | None) -> Backend:
        if value is None or not value.strip() or value.strip().lower() == "auto":
            return cls.default()
        try:
            return cls(value.strip().lower())
        except ValueError:
            options = ", ".join(["auto", *(b.value for b in cls)])
            raise ValueError(f"unknown backend '{value}'; choose one of {options}") from None

    @property
    def vectors(self) -> str:
        """The kind of vectors this backend produces; backends of one kind are compatible.

        Both backends run the float model (OpenVINO within cosine 0.999 of torch), so
        an index or a calibration made with one serves the other; a quantised backend would be
        a kind of its own.
        """
        return "float"

    def compatible_with(self, other: Backend) -> bool:
        """Whether vectors from `other` may be mixed with this backend's (index, calibration)."""
        return self.vectors == other.vectors


Tokenize = Callable[[list[str]], Mapping[str, np.ndarray]]
"""Texts → `input_ids` and `attention_mask` (padded to the longest, truncated), as arrays."""

TOKENIZER_FILE = "tokenizer.json"


class OpenVinoEncoder:
    """The transformer of a sentence-transformers model, compiled by OpenVINO, with its pooling.

    `encode(texts)` takes texts with their prompts already prefixed, like `SentenceTransformer`.
    Built `from_model` (a loaded model: converted to IR once) or `from_files` (an IR already
    converted and the model folder's `tokenizer.json`: neither torch nor sentence-transformers is
    imported, which is most of a fresh command's start-up).
    """

    def __init__(self, tokenize: Tokenize, xml: Path) -> None:
        import openvino

        self._tokenize = tokenize
        # Respect a thread budget set for this process (Ray gives an actor OMP_NUM_THREADS).
        threads = os.environ.get("OMP_NUM_THREADS", "")
        config = {"INFERENCE_NUM_THREADS": int(threads)} if threads.isdigit() else {}
        self._compiled = openvino.Core().compile_model(str(xml), "CPU", config)
        self._names = {port.any_name for port in self._compiled.inputs}

    @classmethod
    def from_model(cls, model: Any, folder: Path) -> OpenVinoEncoder:
        """From a loaded `SentenceTransformer`; its IR is converted into `folder` once."""
        tokenizer, length = model[0].tokenizer, int(model.max_seq_length or 512)

        def tokenize(texts: list[str]) -> Mapping[str, np.ndarray]:
            return tokenizer(
                texts, padding=True, truncation=True, max_length=length, return_tensors="np"
            )

        return cls(tokenize, convert_to_openvino(model, folder))

    @classmethod
    def from_files(
        cls, model_folder: Path, folder: Path, max_seq_length: int
    ) -> OpenVinoEncoder | None:
        """From the IR in `folder` and `model_folder/tokenizer.json`; None unless both exist."""
        tokenizer_file = model_folder / TOKENIZER_FILE
        if not (folder / OPENVINO_XML).is_file() or not tokenizer_file.is_file():
            return None
        return cls(file_tokenizer(model_folder, max_seq_length), folder / OPENVINO_XML)

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        out = []
        for start in range(0, len(texts), batch_size):
            tokens = self._tokenize(texts[start : start + batch_size])
            feeds = {name: tokens[name] for name in self._names if name in tokens}
            if "token_type_ids" in self._names and "token_type_ids" not in tokens:
                feeds["token_type_ids"] = np.zeros_like(tokens["input_ids"])
            hidden = self._compiled(feeds)[0]
            mask = tokens["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
            out.append(pooled / np.linalg.norm(pooled, axis=1, keepdims=True))
        return np.vstack(out).astype(np.float32) if out else np.zeros((0, 0), np.float32)


def file_tokenizer(model_folder: Path, max_length: int) -> Tokenize:
    """The folder's `tokenizer.json` run by the `tokenizers` library itself: the ids the
    transformers tokenizer built on the same file gives, without importing transformers."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_folder / TOKENIZER_FILE))
    config_file = model_folder / "tokenizer_config.json"
    config = json.loads(config_file.read_text(encoding="utf-8")) if config_file.is_file() else {}
    pad = config.get("pad_token") or "<pad>"
    pad = pad["content"] if isinstance(pad, dict) else pad
    tokenizer.enable_truncation(max_length)
    tokenizer.enable_padding(pad_id=tokenizer.token_to_id(pad), pad_token=pad)

    def tokenize(texts: list[str]) -> Mapping[str, np.ndarray]:
        encodings = tokenizer.encode_batch(texts)
        return {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        }

    return tokenize


def ir_folder(model_path: str, models_dir: Path) -> Path:
    """Where the OpenVINO IR of `model_path` (a folder or a hub name) lives.

    The name carries the model's fingerprint, so a model folder retrained in place is
    converted again instead of serving stale vectors.
    """
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(model_path).name or model_path)[-60:]
    return models_dir / OPENVINO_FOLDER / f"{name}-{model_fingerprint(model_path)}"


def convert_to_openvino(model: Any, folder: Path) -> Path:
    """The IR of `model`'s transformer in `folder`, converted once (locked, staged, renamed)."""
    import openvino
    import torch

    xml = folder / OPENVINO_XML
    if xml.exists():
        return xml
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if xml.exists():
            return xml
        print(f"converting the model for OpenVINO (once, ~30 s) → {folder}", file=sys.stderr)
        staging = folder.with_name(f".{folder.name}.{os.getpid()}.partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        transformer = model[0].auto_model.eval()
        example = model[0].tokenizer(["query: 示例文本"], return_tensors="pt")
        example = {k: v for k, v in example.items() if k in ("input_ids", "attention_mask")}
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracing warnings about shapes; inputs are dynamic
            converted = openvino.convert_model(transformer, example_input=example)
        openvino.save_model(converted, str(staging / OPENVINO_XML), compress_to_fp16=False)
        os.replace(staging, folder)
    return xml
