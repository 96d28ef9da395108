"""A FAISS inner-product index with stable int64 ids, incremental updates and atomic saves.

The index type follows the number of vectors (`IndexKind.auto`):

- **flat** (exact) up to `FLAT_MAX` vectors: a query scans them all, ~12 ms at 5·10⁴ on these
  cores and linear beyond (24 ms at 10⁵: half a match's budget; BENCHMARKS.md);
- **IVF-Flat** beyond: the vectors are clustered into `nlist ≈ 4·√n` lists and a query scans
  `nprobe` of them, or enough to hold `DEPTH_MARGIN` times the hits asked for (a match asks for
  thousands). Scores are exact inner products of the vectors scanned, so recall is the only
  approximation (≥ 0.95 at 10⁶ with the default `nprobe`; BENCHMARKS.md). Deletes stay possible
  (IVF removes by id; a hashtable direct map reconstructs a vector by id).

A flat index that grows past `FLAT_MAX` is rebuilt as IVF once, at that add. The kind can be
forced (`flat`, `ivf`) by configuration.

The index also keeps the first two moments of its vectors (their sum and Gram matrix), so
`score_stats` gives the mean and standard deviation of a query's cosine over *every* stored
vector exactly, without scoring them all: fusion z-scores a query's hits with them.
"""

from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum
from functools import cache
from pathlib import Path

import faiss
import numpy as np

from corpus.errors import JiebangError
from corpus.files import atomic_write
from embed.backends import thread_budget

FORMAT = "jiebang-vectors/3"
FLAT_MAX = 50_000
DEFAULT_NPROBE = 48
# A deep search probes lists holding this many times the k asked for: a match's organisation
# ranking uses its whole hit list, and at 10⁵ passages its top 10 overlapped exact search's by
# 0.918 on average over the 68 catalogue challenges with 4, 0.979 with 8, 1.000 with 16
# (BENCHMARKS.md).
DEPTH_MARGIN = 16
TRAIN_SAMPLE = 100_000
COSINE_BLOCK = 512  # vectors widened to float64 at a time: 1.5 MB, which stays in cache


class IndexKind(StrEnum):
    """Exact search, inverted lists, or the choice by size."""

    auto = "auto"
    flat = "flat"
    ivf = "ivf"


class VectorIndex:
    """Inner-product search over L2-normalised vectors (cosine), keyed by int64 ids."""

    def __init__(
        self,
        dim: int,
        model_id: str,
        kind: IndexKind | str = IndexKind.auto,
        nprobe: int = DEFAULT_NPROBE,
    ) -> None:
        self.dim = dim
        self.model_id = model_id
        self.kind = IndexKind(kind)
        self.nprobe = nprobe
        self._index: faiss.Index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self._ids: set[int] = set()
        self._sum = np.zeros(dim, dtype=np.float64)
        self._gram = np.zeros((dim, dim), dtype=np.float64)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    @property
    def is_ivf(self) -> bool:
        return isinstance(self._index, faiss.IndexIVF)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under ids; an id already present is replaced."""
        ids = np.asarray(ids, dtype=np.int64)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ValueError(f"expected vectors of shape (n, {self.dim}), got {vectors.shape}")
        if len(ids) != len(vectors):
            raise ValueError("ids and vectors differ in length")
        if not len(ids):
            return
        self.remove(ids)
        if self._wants_ivf(len(self) + len(ids)) and not self.is_ivf:
            self._to_ivf(np.concatenate([self.ids(), ids]), self._stack(self.ids(), vectors))
        else:
            self._index.add_with_ids(vectors, ids)
        self._ids.update(ids.tolist())
        self._update_moments(vectors, +1)

    def _wants_ivf(self, size: int) -> bool:
        return self.kind is IndexKind.ivf or (self.kind is IndexKind.auto and size > FLAT_MAX)

    def _stack(self, old_ids: np.ndarray, new: np.ndarray) -> np.ndarray:
        old = self._index.reconstruct_batch(old_ids) if len(old_ids) else np.zeros((0, self.dim))
        return np.vstack([old, new]).astype(np.float32)

    def _to_ivf(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Rebuild as IVF-Flat trained on (a sample of) these vectors, then hold all of them."""
        nlist = max(1, min(int(4 * math.sqrt(len(vectors))), len(vectors) // 39 or 1))
        quantiser = faiss.IndexFlatIP(self.dim)
        index = faiss.IndexIVFFlat(quantiser, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        sample = vectors
        if len(vectors) > TRAIN_SAMPLE:
            rows = np.random.default_rng(0).choice(len(vectors), TRAIN_SAMPLE, replace=False)
            sample = vectors[np.sort(rows)]
        index.train(sample)
        index.set_direct_map_type(faiss.DirectMap.Hashtable)
        index.add_with_ids(vectors, ids)
        index.nprobe = self.nprobe
        index.own_fields = True
        quantiser.this.disown()
        self._index = index

    def remove(self, ids: np.ndarray) -> int:
        """Remove ids (absent ones are ignored); returns how many were removed."""
        ids = np.asarray(ids, dtype=np.int64)
        present = np.array([pid for pid in ids.tolist() if pid in self._ids], dtype=np.int64)
        if not len(present):
            return 0
        gone = self._index.reconstruct_batch(present)
        self._update_moments(gone, -1)
        self._ids.difference_update(present.tolist())
        # The hashtable direct map of IVF removes only through an IDSelectorArray.
        selector = faiss.IDSelectorArray(len(present), faiss.swig_ptr(present))
        return int(self._index.remove_ids(selector))

    def _update_moments(self, vectors: np.ndarray, sign: int) -> None:
        as64 = vectors.astype(np.float64)
        self._sum += sign * as64.sum(axis=0)
        self._gram += sign * (as64.T @ as64)

    def score_stats(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) of each query's inner product with every stored vector."""
        queries = np.atleast_2d(queries).astype(np.float64)
        n = len(self)
        if not n:
            return np.zeros(len(queries)), np.zeros(len(queries))
        mean = queries @ self._sum / n
        second = np.einsum("id,de,ie->i", queries, self._gram, queries) / n
        return mean, np.sqrt(np.maximum(second - mean**2, 0.0))

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) per query; ids of -1 pad rows with fewer than k hits.

        `allowed` restricts the search to those ids (filters by kind or region).
        """
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if not len(self):
            empty = np.full((len(queries), 1), -1, dtype=np.int64)
            return np.zeros((len(queries), 1), dtype=np.float32), empty
        k = max(1, min(k, len(self)))
        selector = None
        if allowed is not None:
            selector = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
        if self.is_ivf:
            # A filter may keep passages in lists the query would not probe: scan every list,
            # cheap because the selector skips the rest before scoring.
            nlist = self._index.nlist
            deep = math.ceil(DEPTH_MARGIN * k * nlist / len(self))
            nprobe = nlist if selector is not None else min(nlist, max(self.nprobe, deep))
            params = faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)
        else:
            params = faiss.SearchParameters(sel=selector) if selector is not None else None
        return self._index.search(queries, k, params=params)

    def search_apart(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> np.ndarray:
        """`search`'s ids, each row's exactly those it gets searched alone.

        FAISS spreads a batch's rows over the cores, but from its BLAS threshold (20 rows) on it
        computes distances (to the vectors, or to IVF's centroids, which choose the lists
        probed) by matrix products that round differently; so rows go in slices below it.
        """
        step = max(1, faiss.cvar.distance_compute_blas_threshold - 1)
        queries = np.atleast_2d(queries)
        slices = range(0, len(queries), step)
        return np.vstack([self.search(queries[s : s + step], k, allowed)[1] for s in slices])

    def cosines(self, ids: np.ndarray, queries: np.ndarray) -> np.ndarray:
        """Inner products (queries × ids) of `queries` with the stored vectors of `ids` (each
        must be present), accumulated in float64 so they do not depend on how they are computed.

        Read and widened `COSINE_BLOCK` vectors at a time, each block multiplied by one query
        after another: widening tens of thousands of vectors at once wrote a float64 copy far
        bigger than the caches (5× slower), and a matrix product with several queries at once
        went to multi-threaded BLAS, up to 10× slower on busy cores (BENCHMARKS.md). The blocks
        are shared out to one thread per core (FAISS and numpy release the GIL); each is
        computed as it would be alone.
        """
        ids = np.asarray(ids, dtype=np.int64)
        queries = np.atleast_2d(queries).astype(np.float64)
        out = np.empty((len(queries), len(ids)))
        starts = range(0, len(ids), COSINE_BLOCK)
        lanes = min(thread_budget(), len(starts))
        if lanes <= 1:
            self._cosine_blocks(ids, queries, out, starts)
            return out
        shares = [starts[lane::lanes] for lane in range(lanes)]
        for done in [_scorers(lanes).submit(self._cosine_blocks, ids, queries, out, share)
                     for share in shares]:  # fmt: skip
            done.result()
        return out

    def _cosine_blocks(
        self, ids: np.ndarray, queries: np.ndarray, out: np.ndarray, starts: range
    ) -> None:
        block = np.empty((min(len(ids), COSINE_BLOCK), self.dim), dtype=np.float32)
        for start in starts:
            part = ids[start : start + COSINE_BLOCK]
            stored = block[: len(part)]
            self._index.reconstruct_batch(part, stored)
            wide = stored.astype(np.float64)
            for row, query in enumerate(queries):
                np.matmul(wide, query, out=out[row, start : start + len(part)])

    def ids(self) -> np.ndarray:
        """All stored ids, ascending."""
        return np.array(sorted(self._ids), dtype=np.int64)

    def to_bytes(self) -> bytes:
        """Serialise index and metadata into one blob (header line + FAISS bytes + moments)."""
        body = faiss.serialize_index(self._index).tobytes()
        moments = np.concatenate([self._sum, self._gram.ravel()]).tobytes()
        header = json.dumps(
            {
                "format": FORMAT,
                "model_id": self.model_id,
                "dim": self.dim,
                "kind": self.kind.value,
                "nprobe": self.nprobe,
                "index_bytes": len(body),
            }
        )
        return header.encode() + b"\n" + body + moments

    @classmethod
    def from_bytes(cls, blob: bytes, model_id: str, dim: int, source: str = "index") -> VectorIndex:
        """Load a blob, refusing one built with another model or dimension."""
        header, _, body = blob.partition(b"\n")
        try:
            meta = json.loads(header)
        except ValueError:
            meta = {}
        if meta.get("format") != FORMAT:
            raise JiebangError(f"{source} is not a jiebang vector index (format {FORMAT})")
        if meta["model_id"] != model_id or meta["dim"] != dim:
            raise JiebangError(
                f"{source} was built with model '{meta['model_id']}' (dim {meta['dim']}) but "
                f"the configured model is '{model_id}' (dim {dim}); rebuild the index"
            )
        index = cls(dim, model_id, meta["kind"], meta["nprobe"])
        size = meta["index_bytes"]
        index._index = faiss.deserialize_index(np.frombuffer(body[:size], dtype=np.uint8))
        moments = np.frombuffer(body[size:], dtype=np.float64)
        index._sum, index._gram = moments[:dim].copy(), moments[dim:].reshape(dim, dim).copy()
        if index.is_ivf:
            index._index.nprobe = index.nprobe
            ids = _ivf_ids(index._index)
        else:
            ids = faiss.vector_to_array(index._index.id_map)
        index._ids = set(ids.astype(np.int64).tolist())
        return index

    def save(self, path: Path) -> None:
        """Save atomically: a crash mid-save leaves the previous file loadable."""
        atomic_write(path, self.to_bytes())

    @classmethod
    def load(cls, path: Path, model_id: str, dim: int) -> VectorIndex:
        if not path.exists():
            raise JiebangError(f"no vector index at {path}")
        return cls.from_bytes(path.read_bytes(), model_id, dim, source=str(path))


def _ivf_ids(index: faiss.IndexIVF) -> np.ndarray:
    """Every id held in an IVF index's inverted lists."""
    lists = index.invlists
    parts = [
        faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
        for i in range(index.nlist)
        if lists.list_size(i)
    ]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


@cache
def _scorers(lanes: int) -> ThreadPoolExecutor:
    """Threads kept for exact scoring, one per core."""
    return ThreadPoolExecutor(lanes, thread_name_prefix="cosines")
