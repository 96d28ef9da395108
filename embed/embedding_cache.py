"""A persistent embedding cache keyed by (model id, hash of prompt + text).

SQLite in WAL mode: safe for several processes, survives crashes, and needs no server.
Re-indexing unchanged text therefore costs a lookup, not a forward pass.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def text_key(prompt: str, text: str) -> bytes:
    """Stable key of one encoder input."""
    return hashlib.sha1(f"{prompt}\x00{text}".encode()).digest()


class EmbeddingCache:
    """Vectors of one model, stored as float32 blobs."""

    def __init__(self, path: Path, model_id: str, dim: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.model_id = model_id
        self.dim = dim
        self._db = sqlite3.connect(path, timeout=60, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vectors ("
            " model TEXT NOT NULL, key BLOB NOT NULL, vector BLOB NOT NULL,"
            " PRIMARY KEY (model, key)) WITHOUT ROWID"
        )

    def get_many(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """The cached vectors among `keys`."""
        found: dict[bytes, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, vector FROM vectors WHERE model = ? AND key IN ({marks})",
                [self.model_id, *chunk],
            )
            for key, blob in rows:
                found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Store vectors (one row per key); a later put of the same key is a no-op."""
        with self._db:
            self._db.executemany(
                "INSERT OR IGNORE INTO vectors (model, key, vector) VALUES (?, ?, ?)",
                [
                    (self.model_id, key, np.ascontiguousarray(vec, dtype=np.float32).tobytes())
                    for key, vec in zip(keys, vectors, strict=True)
                ],
            )

    def close(self) -> None:
        self._db.close()
