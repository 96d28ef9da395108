"""BM25 over `Segmenter.sparse_terms` (words, glossary-term parts, §bigrams), keyed like FAISS.

The sparse channel of the hybrid matcher. Passages keep the same stable int64 ids as in the
`VectorIndex`, so a dense hit and a sparse hit of one passage meet under one id.

Updates: bm25s builds immutable score matrices, so `add`/`remove` only change the stored token
lists and mark the index stale; the next search rebuilds the matrices from those lists. That
rebuild does no segmentation (tokens are kept) and costs well under a second at 10⁴ passages
(see BENCHMARKS.md), which suits a catalogue that changes by a few organisations at a time.

Scoring: bm25s `method="lucene"` by default (IDF log(1 + (N − df + .5)/(df + .5)), never negative,
so a term in most passages still counts a little); `method="robertson"` is the classic Okapi
form, identical to `rank_bm25.BM25Okapi(epsilon=0)` (both floor negative IDF at zero). bm25s
leaves out the constant factor (k1 + 1) of the term-frequency part; `scores` puts it back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import bm25s
import numpy as np

from corpus.errors import JiebangError
from embed.segment import Segmenter

FORMAT = "jiebang-sparse/1"


class SparseIndex:
    """BM25 search over passages tokenised by a private `Segmenter`.

    `extra_terms` join the segmenter's glossary (e.g. the challenge catalogue's terms); they are
    saved with the index so queries are always cut the way the passages were.
    """

    def __init__(
        self,
        extra_terms: Iterable[str] = (),
        *,
        method: str = "lucene",
        k1: float = 1.5,
        b: float = 0.75,
    ) -> None:
        self.extra_terms = tuple(sorted(set(extra_terms)))
        self.segmenter = Segmenter(extra_terms=self.extra_terms)
        self.method, self.k1, self.b = method, k1, b
        self._tokens: dict[int, list[str]] = {}
        self._bm25: bm25s.BM25 | None = None
        self._order = np.zeros(0, dtype=np.int64)  # bm25s row → passage id

    def __len__(self) -> int:
        return len(self._tokens)

    def add(self, ids: Sequence[int] | np.ndarray, texts: Sequence[str]) -> None:
        """Tokenise and add passages; an id already present is replaced."""
        if len(ids) != len(texts):
            raise ValueError("ids and texts differ in length")
        self.add_tokens(ids, [self.segmenter.sparse_terms(text) for text in texts])

    def add_tokens(self, ids: Sequence[int] | np.ndarray, tokens: Sequence[list[str]]) -> None:
        """Add passages already tokenised (by this index's segmenter)."""
        for pid, terms in zip(ids, tokens, strict=True):
            self._tokens[int(pid)] = list(terms)
        self._bm25 = None

    def remove(self, ids: Iterable[int]) -> int:
        """Remove passages (absent ids are ignored); returns how many were removed."""
        removed = sum(self._tokens.pop(int(pid), None) is not None for pid in ids)
        if removed:
            self._bm25 = None
        return removed

    def query_terms(self, text: str) -> list[str]:
        """The distinct terms a query is scored by.

        Distinct, because a query may be a whole patent: counting a repeated term once per
        occurrence over-weights it (patents-applicant MRR 0.311 counted vs 0.328 distinct).
        """
        return list(dict.fromkeys(self.segmenter.sparse_terms(text)))

    def tokens(self, pid: int) -> list[str]:
        """The stored terms of one passage."""
        return self._tokens[pid]

    def scores(self, terms: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(ids, BM25 scores) of every passage for the query `terms`, in index order."""
        bm25 = self._ready()
        if bm25 is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        known = bm25.get_tokens_ids(terms)
        if not known:
            return self._order, np.zeros(len(self._order), dtype=np.float32)
        # bm25s drops the constant (k1 + 1) of the term-frequency factor; restoring it gives
        # the textbook score that other implementations report.
        return self._order, bm25.get_scores_from_ids(known) * np.float32(self.k1 + 1)

    def search(
        self, terms: list[str], k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (ids, scores) with a positive score, best first; `allowed` restricts the ids."""
        ids, scores = self.scores(terms)
        if allowed is not None:
            keep = np.isin(ids, allowed)
            ids, scores = ids[keep], scores[keep]
        positive = scores > 0
        ids, scores = ids[positive], scores[positive]
        if len(ids) > k:
            top = np.argpartition(-scores, k - 1)[:k]
            ids, scores = ids[top], scores[top]
        order = np.lexsort((ids, -scores))
        return ids[order], scores[order]

    def rebuild(self) -> None:
        """Rebuild the score matrices now rather than at the next search."""
        self._bm25 = None
        self._ready()

    def _ready(self) -> bm25s.BM25 | None:
        if self._bm25 is None and self._tokens:
            self._order = np.array(sorted(self._tokens), dtype=np.int64)
            # An empty passage still needs a row; bm25s's empty token gives it one.
            corpus = [self._tokens[int(pid)] for pid in self._order]
            bm25 = bm25s.BM25(method=self.method, k1=self.k1, b=self.b)
            bm25.index(corpus, show_progress=False)
            self._bm25 = bm25
        return self._bm25

    # ---- persistence ----------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """Parameters and token lists as JSON lines (the matrices are rebuilt on load)."""
        header = {
            "format": FORMAT,
            "method": self.method,
            "k1": self.k1,
            "b": self.b,
            "extra_terms": list(self.extra_terms),
        }
        lines = [json.dumps(header, ensure_ascii=False)]
        lines += (
            json.dumps([pid, terms], ensure_ascii=False) for pid, terms in self._tokens.items()
        )
        return ("\n".join(lines) + "\n").encode()

    @classmethod
    def from_bytes(cls, blob: bytes, source: str = "index") -> SparseIndex:
        """Load what `to_bytes` wrote."""
        lines = blob.decode().splitlines()
        try:
            header = json.loads(lines[0])
        except (IndexError, ValueError):
            header = {}
        if header.get("format") != FORMAT:
            raise JiebangError(f"{source} holds no jiebang sparse index")
        index = cls(header["extra_terms"], method=header["method"], k1=header["k1"], b=header["b"])
        rows = [json.loads(line) for line in lines[1:]]
        index.add_tokens([pid for pid, _ in rows], [terms for _, terms in rows])
        return index
