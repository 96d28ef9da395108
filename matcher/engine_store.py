"""A `MatchEngine` as one file: the zip format, written atomically, read back with checks.

`jiebang-index.zip` holds `meta.json` (format, model, backend, method, terms, next passage id),
`calibration.json`, `organisations.jsonl`, `passages.jsonl`, `vectors.bin` (the FAISS index) and
`lexical.bin` (the TF-IDF index). A file from another format, model or an incompatible backend,
or a damaged one, is refused with a one-line `JiebangError`.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

from corpus.errors import JiebangError
from corpus.files import atomic_write
from corpus.models import Organisation
from embed.backends import Backend
from embed.embedder import Embedder
from embed.lexical_index import LexicalIndex
from embed.vector_index import VectorIndex
from matcher.calibration import Calibration
from matcher.calibration.store import parse_calibration
from matcher.evidence import Passage

INDEX_FILE = "jiebang-index.zip"
FORMAT = "jiebang-index/4"
INDEX_MEMBERS = (
    "meta.json",
    "calibration.json",
    "organisations.jsonl",
    "passages.jsonl",
    "vectors.bin",
    "lexical.bin",
)
# No member of a real index comes near this (10⁶ passages: ≈ 2 GB of vectors).
MAX_MEMBER_BYTES = 8 << 30


@dataclass(frozen=True)
class StoredEngine:
    """What an index file holds besides the embedding model it was built with."""

    method: str
    terms: list[str]
    next_pid: int
    calibration: Calibration
    organisations: list[Organisation]
    passages: list[Passage]
    vectors: VectorIndex
    lexical: LexicalIndex


def write_index(folder: Path, embedder: Embedder, stored: StoredEngine) -> Path:
    """Write `stored` (built with `embedder`) as `folder/INDEX_FILE`, atomically."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        meta = {
            "format": FORMAT,
            "model_id": embedder.model_id,
            "dim": embedder.dim,
            "backend": embedder.backend.value,
            "method": stored.method,
            "terms": stored.terms,
            "next_pid": stored.next_pid,
        }
        archive.writestr("meta.json", json.dumps(meta, ensure_ascii=False))
        archive.writestr("calibration.json", stored.calibration.to_json())
        archive.writestr(
            "organisations.jsonl",
            "".join(o.model_dump_json() + "\n" for o in stored.organisations),
        )
        archive.writestr(
            "passages.jsonl", "".join(p.model_dump_json() + "\n" for p in stored.passages)
        )
        archive.writestr("vectors.bin", stored.vectors.to_bytes())
        archive.writestr("lexical.bin", stored.lexical.to_bytes())
    path = folder / INDEX_FILE
    atomic_write(path, buffer.getvalue())
    return path


def read_index(folder: Path, embedder: Embedder) -> StoredEngine:
    """The engine saved in `folder`; refuses one built with another model, or a damaged file."""
    path = folder / INDEX_FILE
    if not path.exists():
        raise JiebangError(f"no index at {path}; build one first")
    try:
        with zipfile.ZipFile(path) as archive:
            members = {name: _read_member(archive, name, path) for name in INDEX_MEMBERS}
    except zipfile.BadZipFile as error:
        raise JiebangError(f"{path} is not a jiebang index ({error})") from None
    try:
        meta = json.loads(members["meta.json"])
    except ValueError as error:
        raise JiebangError(f"{path} is not a jiebang index ({error})") from None
    if meta.get("format") != FORMAT:
        raise JiebangError(f"{path} has format {meta.get('format')!r}, not {FORMAT}; rebuild it")
    built_with = Backend.from_str(meta.get("backend", Backend.torch.value))
    if not built_with.compatible_with(embedder.backend):
        raise JiebangError(
            f"{path} was built with the '{built_with}' backend, whose vectors do not mix "
            f"with '{embedder.backend}'; set JIEBANG_BACKEND={built_with} or rebuild it"
        )
    vectors = VectorIndex.from_bytes(
        members["vectors.bin"], embedder.model_id, embedder.dim, source=str(path)
    )
    calibration = parse_calibration(members["calibration.json"], f"{path} (calibration)")
    return StoredEngine(
        method=meta["method"],
        terms=meta["terms"],
        next_pid=meta["next_pid"],
        calibration=calibration,
        organisations=[
            Organisation.model_validate_json(line)
            for line in members["organisations.jsonl"].decode().splitlines()
        ],
        passages=[
            Passage.model_validate_json(line)
            for line in members["passages.jsonl"].decode().splitlines()
        ],
        vectors=vectors,
        lexical=LexicalIndex.from_bytes(members["lexical.bin"], str(path), calibration.background),
    )


def _read_member(archive: zipfile.ZipFile, name: str, path: Path) -> bytes:
    """One member of an index file, refusing a missing or implausibly large one."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise JiebangError(f"{path} is damaged: it has no {name}; rebuild the index") from None
    if info.file_size > MAX_MEMBER_BYTES:
        raise JiebangError(
            f"{path} is damaged or hostile: {name} would unpack to {info.file_size} bytes"
        )
    return archive.read(info)
