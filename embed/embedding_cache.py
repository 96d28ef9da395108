"""A persistent embedding cache keyed by (model id, hash of prompt + text), bounded in size.

SQLite in WAL mode: safe for several processes, survives crashes, and needs no server.
Re-indexing unchanged text therefore costs a lookup, not a forward pass.

Bounded: past `max_rows` vectors the oldest are evicted (queries typed into the API would
otherwise grow it for ever). A cache that cannot be written (a full disk, a read-only file)
is skipped with a warning: encoding never fails because caching did.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from corpus.faults import point

log = logging.getLogger("jiebang.cache")

DEFAULT_MAX_ROWS = 2_000_000  # ≈ 3.3 GB of 384-d float32 vectors
_CHECK_EVERY = 1000  # puts between size checks (counting rows scans the table)


def text_key(prompt: str, text: str) -> bytes:
    """Stable key of one encoder input."""
    return hashlib.sha1(f"{prompt}\x00{text}".encode()).digest()


class EmbeddingCache:
    """Vectors of one model, stored as float32 blobs."""

    def __init__(
        self, path: Path, model_id: str, dim: int, max_rows: int = DEFAULT_MAX_ROWS
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.model_id = model_id
        self.dim = dim
        self.max_rows = max_rows
        self._since_check = _CHECK_EVERY  # check at the first put
        self._db = sqlite3.connect(path, timeout=60, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vectors ("
            " model TEXT NOT NULL, key BLOB NOT NULL, vector BLOB NOT NULL,"
            " PRIMARY KEY (model, key)) WITHOUT ROWID"
        )
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(vectors)")}
        if "added" not in columns:  # caches written before eviction existed
            with self._db:
                self._db.execute("ALTER TABLE vectors ADD COLUMN added REAL NOT NULL DEFAULT 0")
        self._db.execute("CREATE INDEX IF NOT EXISTS vectors_added ON vectors (added)")

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
        now = time.time()
        try:
            with self._db:
                self._db.executemany(
                    "INSERT OR IGNORE INTO vectors (model, key, vector, added) VALUES (?, ?, ?, ?)",
                    [
                        (self.model_id, key, _blob(vector), now)
                        for key, vector in zip(keys, vectors, strict=True)
                    ],
                )
                point("cache-put")  # inside the transaction: a crash here must lose nothing
            self._since_check += len(keys)
            if self._since_check >= _CHECK_EVERY:
                self._since_check = 0
                self._evict()
        except sqlite3.Error as error:
            log.warning("embedding cache not written (%s); encoding goes on without it", error)

    def rows(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM vectors").fetchone()[0])

    def _evict(self) -> None:
        excess = self.rows() - self.max_rows
        if excess > 0:
            with self._db:
                self._db.execute(
                    "DELETE FROM vectors WHERE (model, key) IN "
                    "(SELECT model, key FROM vectors ORDER BY added LIMIT ?)",
                    (excess,),
                )

    def close(self) -> None:
        self._db.close()


def _blob(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype=np.float32).tobytes()
