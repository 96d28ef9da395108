"""A fixed reference background that evidence scores are standardised against.

A score such as "three deviations above this query's background" needs a background. Taken over
the user's own index it moves whenever documents are added (a demo organisation's confidence for
a challenge went from 0.14 to 0.39 when 4,097 unrelated patents joined the index), so the
background is a fixed reference corpus instead, fitted with the embedding model and shipped in
its calibration. What it holds:

- **dense**: the mean vector and covariance of the reference passages' embeddings, so a query's
  mean and standard deviation of cosine over them are exact (μ = q·m, σ² = qᵀΣq);
- **lexical**: each character n-gram's document frequency, the IDF every evidence index weights
  with (a passage's TF-IDF vector never changes when others are added), and the mean and
  variance of its normalised weight over the reference passages, so a query's mean and standard
  deviation of TF-IDF cosine follow under independence between n-grams (the covariance's
  diagonal: on `challenge-org` about 0.7 of the exact deviation, steadily, which the fitted
  weights absorb).

N-grams seen in fewer than `MIN_DF` reference passages are not stored; any n-gram missing from
the table counts as seen once (the IDF of a rare n-gram) with no weight in the moments.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from corpus.errors import JiebangError
from embed.lexical_index import char_ngrams, tfidf_weights

MIN_DF = 2
FORMAT = "jiebang-background/1"


@dataclass(frozen=True, eq=False)
class Background:
    """Reference statistics for both channels (see the module docstring)."""

    documents: int
    dense_mean: np.ndarray
    dense_cov: np.ndarray
    ngrams: tuple[str, ...]
    ngram_df: np.ndarray
    ngram_mean: np.ndarray
    ngram_var: np.ndarray
    _row: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_row", {g: i for i, g in enumerate(self.ngrams)})

    @property
    def dim(self) -> int:
        return len(self.dense_mean)

    # ---- dense ------------------------------------------------------------------------------

    def dense_stats(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) of each vector's cosine with the reference passages."""
        vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float64))
        if vectors.shape[1] != self.dim:
            raise JiebangError(
                f"the background has {self.dim}-dimensional vectors, the model {vectors.shape[1]}"
            )
        mean = vectors @ self.dense_mean
        variance = np.einsum("id,de,ie->i", vectors, self.dense_cov, vectors)
        return mean, np.sqrt(np.maximum(variance, 1e-12))

    # ---- lexical ----------------------------------------------------------------------------

    def idf(self, grams: Sequence[str]) -> np.ndarray:
        """scikit-learn's smoothed IDF, ln((1 + N) / (1 + df)) + 1, of each n-gram."""
        df = np.array([self._df(g) for g in grams], dtype=np.float64)
        return np.log((1.0 + self.documents) / (1.0 + df)) + 1.0

    def _df(self, gram: str) -> float:
        row = self._row.get(gram)
        return float(self.ngram_df[row]) if row is not None else 1.0

    def lexical_stats(self, grams: Sequence[str], weights: np.ndarray) -> tuple[float, float]:
        """(mean, std) of the TF-IDF cosine of a query (its n-grams and normalised weights)
        with the reference passages."""
        rows = [self._row.get(g) for g in grams]
        known = np.array([r is not None for r in rows], dtype=bool)
        if not known.any():
            return 0.0, 0.0
        index = np.array([r for r in rows if r is not None], dtype=np.int64)
        w = np.asarray(weights, dtype=np.float64)[known]
        mean = float(w @ self.ngram_mean[index])
        return mean, float(np.sqrt(max((w * w) @ self.ngram_var[index], 0.0)))

    # ---- fitting and storage -----------------------------------------------------------------

    @classmethod
    def fit(cls, texts: Sequence[str], vectors: np.ndarray, min_df: int = MIN_DF) -> Background:
        """The background of reference passages `texts` with their embeddings `vectors`."""
        if not len(texts) or len(texts) != len(vectors):
            raise JiebangError("a background needs passages, each with its vector")
        vectors = np.asarray(vectors, dtype=np.float64)
        mean = vectors.mean(axis=0)
        cov = vectors.T @ vectors / len(vectors) - np.outer(mean, mean)
        counts = [Counter(char_ngrams(text)) for text in texts]
        df = Counter(g for c in counts for g in c)
        kept = sorted(g for g, n in df.items() if n >= min_df)
        draft = cls(len(texts), mean, cov, tuple(kept), np.array([df[g] for g in kept]),
                    np.zeros(len(kept)), np.zeros(len(kept)))  # fmt: skip
        total, squares = np.zeros(len(kept)), np.zeros(len(kept))
        for count in counts:
            grams = list(count)
            weights = tfidf_weights(np.array([count[g] for g in grams]), draft.idf(grams))
            for gram, weight in zip(grams, weights.tolist(), strict=True):
                row = draft._row.get(gram)
                if row is not None:
                    total[row] += weight
                    squares[row] += weight * weight
        n = len(texts)
        mean_w = total / n
        return cls(n, mean, cov, tuple(kept), draft.ngram_df, mean_w,
                   np.maximum(squares / n - mean_w**2, 0.0))  # fmt: skip

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            format=np.array(FORMAT),
            documents=np.array(self.documents),
            dense_mean=self.dense_mean.astype(np.float32),
            dense_cov=self.dense_cov.astype(np.float32),
            ngrams=np.array("\x00".join(self.ngrams)),
            ngram_df=self.ngram_df.astype(np.int32),
            ngram_mean=self.ngram_mean.astype(np.float32),
            ngram_var=self.ngram_var.astype(np.float32),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes, source: str = "background") -> Background:
        try:
            arrays = np.load(io.BytesIO(blob))
            if str(arrays["format"]) != FORMAT:
                raise ValueError(f"format {arrays['format']}")
            text = str(arrays["ngrams"])
            return cls(
                int(arrays["documents"]),
                arrays["dense_mean"].astype(np.float64),
                arrays["dense_cov"].astype(np.float64),
                tuple(text.split("\x00")) if text else (),
                arrays["ngram_df"].astype(np.int64),
                arrays["ngram_mean"].astype(np.float64),
                arrays["ngram_var"].astype(np.float64),
            )
        except (ValueError, OSError, KeyError) as error:
            raise JiebangError(f"{source} holds no jiebang background ({error})") from None
