"""The two retrievers: a query's passages in each channel, raw and standardised.

- `evidence_hits` (the engine): both channels retrieve their top passages, then every passage
  of every organisation they reached is scored exactly in both channels and standardised
  against the fixed reference background (`embed.background`). A passage's scores therefore
  depend only on the query, the passage and the background: adding unrelated documents to the
  index cannot move them (it can only add competitors).
- `dense_hits` / `lexical_hits` (the catalogue as an index, `matcher.areas`): the top passages
  standardised over the index itself, a fixed corpus.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from embed.background import Background
from embed.lexical_index import LexicalIndex
from embed.vector_index import VectorIndex
from matcher.fusion import ChannelScores


def evidence_hits(
    vectors: VectorIndex,
    lexical: LexicalIndex,
    background: Background,
    query_vectors: np.ndarray,
    text: str,
    depth: int,
    expand: Callable[[Iterable[int]], np.ndarray],
    allowed: np.ndarray | None = None,
) -> dict[str, ChannelScores]:
    """Both channels' exact scores for every passage `expand` adds to the retrieved ones.

    The query is `text` and its chunks' vectors; each channel retrieves its top `depth`
    passages (within `allowed`; lexical ties at the cut: lower id first), `expand` turns those
    into the passages to score (the engine: all passages of the organisations reached). A
    passage scores its best chunk (dense). Both channels' scores are over the same `pids`.
    """
    _, dense_ids = vectors.search(query_vectors, depth, allowed)
    lexical_ids, lexical_all = lexical.scores(text)
    candidates = lexical_all > 0
    if allowed is not None:
        candidates &= np.isin(lexical_ids, allowed)
    retrieved = np.union1d(dense_ids[dense_ids >= 0], _top(lexical_ids[candidates],
                           lexical_all[candidates], depth))  # fmt: skip
    pids = np.asarray(expand(retrieved.tolist()), dtype=np.int64)
    if not len(pids):
        return {"dense": ChannelScores.empty(), "lexical": ChannelScores.empty()}

    means, stds = background.dense_stats(query_vectors)
    cosines = vectors.cosines(pids, query_vectors)
    dense_raw = cosines.max(axis=1)
    dense_z = ((cosines - means) / stds).max(axis=1)
    grams, weights = lexical.query_weights(text)
    lex_mean, lex_std = background.lexical_stats(grams, weights)
    lex_raw = lexical_all[np.searchsorted(lexical_ids, pids)].astype(np.float64)
    lex_z = (lex_raw - lex_mean) / lex_std if lex_std > 0 else np.zeros_like(lex_raw)
    dense_background = (float(means[0]), float(stds[0]))
    return {
        "dense": ChannelScores(pids, dense_raw, dense_z, float(dense_z.min()), dense_background),
        "lexical": ChannelScores(pids, lex_raw, lex_z, float(lex_z.min()), (lex_mean, lex_std)),
    }


def _top(ids: np.ndarray, scores: np.ndarray, depth: int) -> np.ndarray:
    """The ids of the `depth` best scores (ties at the cut: lower id first; `ids` ascend)."""
    if len(ids) <= depth:
        return ids
    cut = np.partition(scores, len(scores) - depth)[len(scores) - depth]
    above = scores > cut
    tied = np.flatnonzero(scores == cut)[: depth - int(above.sum())]
    return np.union1d(ids[above], ids[tied])


def dense_hits(
    index: VectorIndex, vectors: np.ndarray, depth: int, allowed: np.ndarray | None = None
) -> ChannelScores:
    """Top `depth` passages for a query given as one vector per chunk.

    A passage scores its best chunk, raw (cosine) and standardised by that chunk's mean and
    standard deviation over every indexed vector (`VectorIndex.score_stats`).
    """
    means, stds = index.score_stats(vectors)
    scores, ids = index.search(vectors, depth, allowed)
    found = ids >= 0
    if not found.any():
        return ChannelScores.empty()
    safe = np.where(stds > 0, stds, 1.0)[:, None]
    z_rows = np.where(stds[:, None] > 0, (scores - means[:, None]) / safe, 0.0)
    pids, rows = np.unique(ids[found], return_inverse=True)
    raw = np.full(len(pids), -2.0)
    z = np.full(len(pids), -np.inf)
    np.maximum.at(raw, rows, scores[found].astype(np.float64))
    np.maximum.at(z, rows, z_rows[found])
    return ChannelScores(pids, raw, z, float(z.min()))


def lexical_hits(
    index: LexicalIndex, text: str, depth: int, allowed: np.ndarray | None = None
) -> ChannelScores:
    """Top `depth` passages sharing an n-gram with `text`, standardised over the index."""
    found = index.search(text, depth, allowed)
    std = found.std if found.std > 0 else 1.0
    z = (found.scores - found.mean) / std
    # An unretrieved passage scores 0 (it shares no n-gram) or below the depth-th hit.
    floor = float(z.min()) if len(z) == depth else -found.mean / std
    order = np.argsort(found.ids)
    return ChannelScores(
        found.ids[order], found.scores[order].astype(np.float64), z[order].astype(np.float64), floor
    )
