"""What every exported model (ONNX, OpenVINO IR) shares: its folder, tokenizer and staging.

An export folder holds the runtime's model files, the model's own fast tokenizer
(`tokenizer.json`) and `export.json` (padding, length, prompts, the checks it passed), so that
running an exported model needs neither torch nor transformers. Its name carries the model
folder's fingerprint and the recipe that made it: a model retrained in place, or a new recipe,
gets a new folder instead of stale vectors.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from embed.model_store import model_fingerprint

if TYPE_CHECKING:
    from sentence_transformers.models import Transformer

TOKENIZER_FILE = "tokenizer.json"
META_FILE = "export.json"


def exported_folder(kind: str, model_path: str, models_dir: Path, recipe: int) -> Path:
    """`<models_dir>/<kind>/<model>-<fingerprint>-r<recipe>`."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(model_path).name or model_path)[-60:]
    return models_dir / kind / f"{name}-{model_fingerprint(model_path)}-r{recipe}"


def transformer_module(model: Any) -> Transformer:
    """A SentenceTransformer's first module, its `Transformer` (`tokenizer`, `auto_model`).

    sentence-transformers types its modules as any torch module; this checks which it is.
    """
    from sentence_transformers.models import Transformer

    first = model[0]
    if not isinstance(first, Transformer):
        raise TypeError(f"the model's first module is a {type(first).__name__}, not a Transformer")
    return first


def save_tokenizer(model: Any, folder: Path, **checks: object) -> dict[str, Any]:
    """Write `model`'s tokenizer and what encoding needs beside it; returns that metadata."""
    tokenizer = transformer_module(model).tokenizer
    tokenizer.backend_tokenizer.save(str(folder / TOKENIZER_FILE))
    meta = {
        "pad_token": tokenizer.pad_token,
        "pad_id": tokenizer.pad_token_id,
        "max_seq_length": int(model.max_seq_length or 512),
        "prompts": {kind: model.prompts.get(kind, "") for kind in ("query", "passage")},
        **checks,
    }
    write_meta(folder, meta)
    return meta


def read_meta(folder: Path) -> dict[str, Any]:
    return json.loads((folder / META_FILE).read_text(encoding="utf-8"))


def write_meta(folder: Path, meta: dict[str, Any]) -> None:
    staging = staging_path(folder / META_FILE)
    staging.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    os.replace(staging, folder / META_FILE)


def staging_path(path: Path) -> Path:
    """A private name beside `path` to write into before renaming it into place."""
    staging = path.with_name(f".{path.name}.{os.getpid()}.partial")
    staging.unlink(missing_ok=True)
    return staging


class TextTokenizer:
    """The model's fast tokenizer, as sentence-transformers calls it: truncated at the model's
    length, padded to the batch's longest text (rounded up to a multiple of `multiple_of`)."""

    def __init__(self, folder: Path, multiple_of: int | None = None) -> None:
        from tokenizers import Tokenizer

        meta = read_meta(folder)
        self._tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        self._tokenizer.enable_truncation(int(meta["max_seq_length"]))
        self._tokenizer.enable_padding(
            pad_id=int(meta["pad_id"]), pad_token=meta["pad_token"], pad_to_multiple_of=multiple_of
        )

    def __call__(self, texts: list[str]) -> dict[str, np.ndarray]:
        encodings = self._tokenizer.encode_batch(texts)
        return {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        }
