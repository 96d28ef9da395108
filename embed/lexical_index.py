"""Character 1–2-gram TF-IDF cosine over passages, keyed like FAISS: the lexical channel.

Why characters and not words: on the real challenge → organisation dev set (`challenge-org`)
character 1–2-gram TF-IDF fused with the dense channel beat jieba-word + bigram BM25 by about
0.02 nDCG@10 and tied it on patents-applicant (EVALUATION.md, "Lexical channel"). Characters
need no dictionary, so a term a segmenter does not know (碳化硅, 钕铁硼) still matches.

Weighting is scikit-learn's `TfidfVectorizer(analyzer="char", ngram_range=(1, 2),
sublinear_tf=True)`: tf = 1 + ln(count), idf = ln((1 + n) / (1 + df)) + 1, rows L2-normalised.
Where the IDF comes from is the index's choice:

- **a fixed background** (`NgramWeights`, `embed.background.Background`): the evidence index.
  A passage's vector, a query's vector (over all its n-grams) and the mean and deviation of a
  query's scores come from the background, so no score moves when other passages are added;
- **the indexed passages themselves**: a fixed corpus such as the catalogue's challenges.
  Queries use the index's vocabulary (unknown n-grams are ignored) and the mean and deviation
  are over every passage. `tests/embed/test_lexical_index.py` checks parity with scikit-learn.

Text is NFKC-normalised first, so full-width ＯＬＥＤ and OLED are the same n-grams. Raw counts
are kept per passage; `add`/`remove` mark the weighted matrix stale and the next search rebuilds
it, a few sparse-matrix operations (well under a second at 10⁴ passages, BENCHMARKS.md). Every
search scores all passages (a sparse matrix–vector product).
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy.sparse as sp

from corpus.errors import JiebangError

FORMAT = "jiebang-lexical/1"
NGRAMS = (1, 2)


# scikit-learn's char analyzer collapses runs of whitespace to one space.
_WHITE_SPACES = re.compile(r"\s\s+")
# `best_positive`'s threshold from a strided sample of the scores
_SAMPLE_STRIDE = 32  # every 32nd score: ~3 k of 10⁵, a ~10 µs partition
_SAMPLE_SLACK = 8  # sampled scores above the threshold beyond twice k's share


def char_ngrams(text: str) -> list[str]:
    """The character 1- and 2-grams the index counts (NFKC, lower-cased, spaces collapsed).

    What `TfidfVectorizer(analyzer="char", ngram_range=NGRAMS).build_analyzer()` returns after
    NFKC (the parity test holds it to that), without importing scikit-learn: ≈ 2 s of a fresh
    command's start-up.
    """
    text = _WHITE_SPACES.sub(" ", unicodedata.normalize("NFKC", text).lower())
    grams: list[str] = []
    for n in range(NGRAMS[0], NGRAMS[1] + 1):
        grams.extend(text[i : i + n] for i in range(len(text) - n + 1))
    return grams


def tfidf_weights(counts: np.ndarray, idf: np.ndarray) -> np.ndarray:
    """Sublinear TF × IDF of one text's n-grams, L2-normalised."""
    weights = (1.0 + np.log(np.asarray(counts, dtype=np.float64))) * idf
    norm = np.linalg.norm(weights)
    return weights / norm if norm > 0 else weights


class NgramWeights(Protocol):
    """A fixed weighting of character n-grams: what `embed.background.Background` provides."""

    def idf(self, grams: Sequence[str]) -> np.ndarray: ...

    def lexical_stats(self, grams: Sequence[str], weights: np.ndarray) -> tuple[float, float]: ...


@dataclass(frozen=True)
class ScoredPassages:
    """One query's scores: the top hits and the statistics of its scores over the whole index."""

    ids: np.ndarray
    scores: np.ndarray
    mean: float
    std: float


def best_positive(
    ids: np.ndarray, scores: np.ndarray, k: int, within: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(ids, scores) of the `k` best positive scores where the mask `within` (over `ids`) is
    set, in id order; ties at the cut go to the lower ids (`ids` ascend, as
    `LexicalIndex.scores` gives them). A mask, so that a challenge's queries, all scored in the
    index's order, share one (`np.isin` over 10⁵ ids costs ~1.2 ms)."""
    if within is not None:
        scores = np.where(within, scores, 0.0).astype(scores.dtype, copy=False)
    cut = _kth_largest_positive(scores, k)
    if cut is None:
        keep = scores > 0
        return ids[keep], scores[keep]
    top = scores > cut
    top[np.flatnonzero(scores == cut)[: k - np.count_nonzero(top)]] = True
    return ids[top], scores[top]


def _kth_largest_positive(scores: np.ndarray, k: int) -> np.floating | None:
    """The `k`-th largest of `scores` if it is positive, else None (fewer than `k` are).

    Most passages share some n-gram with a query (60–95 k of 10⁵), so partitioning all the
    positive scores cost ~0.8 ms a query. A strided sample gives a threshold that about twice
    `k` scores reach; where at least `k` do, the `k`-th largest is among them (exactly so).
    """
    sample = scores[::_SAMPLE_STRIDE]
    rank = len(sample) - 1 - min(len(sample) - 1, 2 * k // _SAMPLE_STRIDE + _SAMPLE_SLACK)
    threshold = np.partition(sample, rank)[rank] if len(sample) else 0.0
    if threshold > 0:
        candidates = scores[scores >= threshold]
        if len(candidates) >= k:
            return np.partition(candidates, len(candidates) - k)[len(candidates) - k]
    positive = scores[scores > 0]
    if len(positive) < k:
        return None
    return np.partition(positive, len(positive) - k)[len(positive) - k]


class LexicalIndex:
    """TF-IDF cosine search over passages with stable int64 ids; IDF from `background`, or
    fitted on the indexed passages when there is none (see the module docstring)."""

    def __init__(self, background: NgramWeights | None = None) -> None:
        self.background = background
        self._vocabulary: dict[str, int] = {}
        self._counts: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # id → (columns, counts)
        self._matrix: sp.csc_matrix | None = None  # rows = self._order, tf-idf, L2-normalised
        self._idf = np.zeros(0)
        self._order = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self._counts)

    def add(self, ids: Sequence[int] | np.ndarray, texts: Sequence[str]) -> None:
        """Count and add passages; an id already present is replaced."""
        if len(ids) != len(texts):
            raise ValueError("ids and texts differ in length")
        for pid, text in zip(ids, texts, strict=True):
            columns = [
                self._vocabulary.setdefault(g, len(self._vocabulary)) for g in char_ngrams(text)
            ]
            unique, counts = np.unique(np.array(columns, dtype=np.int64), return_counts=True)
            self._counts[int(pid)] = (unique.astype(np.int32), counts.astype(np.float32))
        self._matrix = None

    def remove(self, ids: Iterable[int]) -> int:
        """Remove passages (absent ids are ignored); returns how many were removed."""
        removed = sum(self._counts.pop(int(pid), None) is not None for pid in ids)
        if removed:
            self._matrix = None
        return removed

    def search(self, text: str, k: int, allowed: np.ndarray | None = None) -> ScoredPassages:
        """The top-k passages with a positive score, best first (ties by id).

        `allowed` restricts the hits, not the statistics (the background's, or the whole
        index's), so a filtered query's scores keep their meaning.
        """
        ids, scores = self.scores(text)
        if self.background is not None:
            grams, weights = self.query_weights(text)
            mean, std = self.background.lexical_stats(grams, weights)
        else:
            mean = float(scores.mean()) if len(scores) else 0.0
            std = float(scores.std()) if len(scores) else 0.0
        within = np.isin(ids, allowed) if allowed is not None else None
        ids, scores = best_positive(ids, scores, k, within)
        order = np.lexsort((ids, -scores))
        return ScoredPassages(ids[order], scores[order], mean, std)

    def scores(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(ids, cosine) of every passage for `text`, in index order."""
        matrix = self._ready()
        if matrix is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        grams, weights = self.query_weights(text)
        known = [i for i, g in enumerate(grams) if g in self._vocabulary]
        if not known:
            return self._order, np.zeros(len(self._order), dtype=np.float32)
        columns = np.array([self._vocabulary[grams[i]] for i in known], dtype=np.int64)
        scores = matrix[:, columns] @ weights[known]
        return self._order, np.asarray(scores, dtype=np.float32).ravel()

    def query_weights(self, text: str) -> tuple[list[str], np.ndarray]:
        """A query's n-grams and normalised weights: all of them under a background, only the
        index's vocabulary otherwise."""
        counts: dict[str, int] = {}
        for gram in char_ngrams(text):
            if self.background is not None or gram in self._vocabulary:
                counts[gram] = counts.get(gram, 0) + 1
        grams = list(counts)
        if not grams:
            return [], np.zeros(0)
        self._ready()
        if self.background is not None:
            idf = self.background.idf(grams)
        else:
            idf = self._idf[[self._vocabulary[g] for g in grams]]
        return grams, tfidf_weights(np.array([counts[g] for g in grams]), idf)

    def reweight(self, background: NgramWeights | None) -> None:
        """Weight with another background (or the passages' own IDF) from the next search."""
        self.background = background
        self._idf = np.zeros(0)
        self._matrix = None

    def rebuild(self) -> None:
        """Rebuild the weighted matrix now rather than at the next search."""
        self._matrix = None
        self._ready()

    def _ready(self) -> sp.csc_matrix | None:
        if self._matrix is None and self._counts:
            self._order = np.array(sorted(self._counts), dtype=np.int64)
            rows = [self._counts[int(pid)] for pid in self._order]
            lengths = np.array([len(columns) for columns, _ in rows])
            indptr = np.concatenate([[0], np.cumsum(lengths)])
            columns = np.concatenate([c for c, _ in rows])
            # Weighted in place on one float32 array: at 10⁶ passages each full-size temporary
            # costs a gigabyte (BENCHMARKS.md, "Indexes at 10⁵ and 10⁶ passages").
            weights = np.concatenate([n for _, n in rows])
            np.log(weights, out=weights)
            weights += 1.0
            self._idf = self._fitted_idf(columns, len(rows))
            weights *= self._idf[columns]
            row_of = np.repeat(np.arange(len(rows)), lengths)
            norms = np.sqrt(np.bincount(row_of, weights=weights * weights, minlength=len(rows)))
            weights /= np.where(norms > 0, norms, 1.0)[row_of]
            shape = (len(rows), len(self._vocabulary))
            self._matrix = sp.csr_matrix((weights, columns, indptr), shape=shape).tocsc()
        return self._matrix

    def _fitted_idf(self, columns: np.ndarray, documents: int) -> np.ndarray:
        """The IDF of every vocabulary entry: the background's, or from the indexed passages."""
        if self.background is not None:  # fixed per n-gram: only new vocabulary is looked up
            new = list(self._vocabulary)[len(self._idf) :]  # columns in insertion order
            return np.concatenate([self._idf, self.background.idf(new)])
        df = np.bincount(columns, minlength=len(self._vocabulary))
        return np.log((1.0 + documents) / (1.0 + df)) + 1.0

    # ---- persistence ----------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """Vocabulary and raw counts (the weighted matrix is rebuilt on load)."""
        order = np.array(sorted(self._counts), dtype=np.int64)
        rows = [self._counts[int(pid)] for pid in order]
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            ids=order,
            lengths=np.array([len(c) for c, _ in rows], dtype=np.int64),
            columns=np.concatenate([c for c, _ in rows]) if rows else np.zeros(0, np.int32),
            counts=np.concatenate([n for _, n in rows]) if rows else np.zeros(0, np.float32),
        )
        vocabulary = sorted(self._vocabulary, key=self._vocabulary.__getitem__)
        header = json.dumps({"format": FORMAT, "vocabulary": vocabulary}, ensure_ascii=False)
        return header.encode() + b"\n" + buffer.getvalue()

    @classmethod
    def from_bytes(
        cls, blob: bytes, source: str = "index", background: NgramWeights | None = None
    ) -> LexicalIndex:
        """Load what `to_bytes` wrote, weighting with `background` (as it was built)."""
        header, _, body = blob.partition(b"\n")
        try:
            meta = json.loads(header)
            arrays = np.load(io.BytesIO(body))
        except (ValueError, OSError):
            meta = {}
        if meta.get("format") != FORMAT:
            raise JiebangError(f"{source} holds no jiebang lexical index")
        index = cls(background)
        index._vocabulary = {term: i for i, term in enumerate(meta["vocabulary"])}
        starts = np.concatenate([[0], np.cumsum(arrays["lengths"])])
        columns, counts = arrays["columns"], arrays["counts"]
        for i, pid in enumerate(arrays["ids"].tolist()):
            index._counts[pid] = (
                columns[starts[i] : starts[i + 1]],
                counts[starts[i] : starts[i + 1]],
            )
        return index
