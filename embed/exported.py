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
    length, padded to the batch's longest text (rounded up to a multiple of `multiple_of`).

    A normaliser that starts with single-character replacements (the converted e5 tokenizer's
    has 4,837, each a pass over the text in the tokenizers library: 0.6 ms for a short query,
    6 ms for a patent) has them applied as one `str.translate` instead: real texts tokenise 16×
    faster, to the same tokens (tested on every rule and on real texts; BENCHMARKS.md).
    """

    def __init__(self, folder: Path, multiple_of: int | None = None) -> None:
        from tokenizers import Tokenizer

        meta = read_meta(folder)
        self._multiple = multiple_of or 1
        self._tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        self._table, self._tokenizer.normalizer = character_rules(self._tokenizer.normalizer)
        self._tokenizer.enable_truncation(int(meta["max_seq_length"]))
        self._tokenizer.enable_padding(
            pad_id=int(meta["pad_id"]), pad_token=meta["pad_token"], pad_to_multiple_of=multiple_of
        )

    def __call__(self, texts: list[str]) -> dict[str, np.ndarray]:
        encodings = self._encode(texts)
        return {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        }

    def padded_lengths(self, texts: list[str]) -> list[int]:
        """The length each text is padded to when it is tokenised alone."""
        counts = [sum(e.attention_mask) for e in self._encode(texts)]
        return [-(-count // self._multiple) * self._multiple for count in counts]

    def _encode(self, texts: list[str]) -> list[Any]:
        return self._tokenizer.encode_batch([text.translate(self._table) for text in texts])


def character_rules(normalizer: Any) -> tuple[dict[int, str], Any]:
    """(a `str.translate` table, the normaliser left): the leading run of a `Sequence`
    normaliser's single-character `Replace` rules, composed (a rule also applies to the output
    of the rules before it), and the rules after them. ({}, `normalizer`) for any other."""
    from tokenizers import normalizers

    if not isinstance(normalizer, normalizers.Sequence):
        return {}, normalizer
    outputs: dict[str, tuple[int, str]] = {}  # character → (its rule's place, its replacement)
    for place in range(len(normalizer)):
        rule = json.loads(normalizer[place].__getstate__())
        pattern = rule.get("pattern", {}).get("String") if rule["type"] == "Replace" else None
        if pattern is None or len(pattern) != 1 or pattern in outputs:
            break
        outputs[pattern] = (place, rule["content"])
    else:
        place = len(normalizer)

    def replaced(character: str, after: int) -> str:
        rule = outputs.get(character)
        if rule is None or rule[0] <= after:
            return character
        return "".join(replaced(out, rule[0]) for out in rule[1])

    table = {ord(character): replaced(character, -1) for character in outputs}
    rest = [normalizer[i] for i in range(place, len(normalizer))]
    return table, normalizers.Sequence(rest) if rest else None
