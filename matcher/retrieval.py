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
    passages (within `allowed`), `expand` turns those into the passages to score (the engine:
    all passages of the organisations reached). A passage scores its best chunk (dense).
    """
    _, dense_ids = vectors.search(query_vectors, depth, allowed)
    lexical_ids, lexical_all = lexical.scores(text)
    candidates = lexical_all > 0
    if allowed is not None:
        candidates &= np.isin(lexical_ids, allowed)
    lexical_top = lexical_ids[candidates][np.argsort(-lexical_all[candidates])[:depth]]
    retrieved = np.union1d(dense_ids[dense_ids >= 0], lexical_top)
    pids = np.asarray(expand(retrieved.tolist()), dtype=np.int64)
    if not len(pids):
        return {"dense": ChannelScores.empty(), "lexical": ChannelScores.empty()}

    means, stds = background.dense_stats(query_vectors)
    cosines = vectors.vectors(pids).astype(np.float64) @ np.atleast_2d(query_vectors).T
    dense_raw = cosines.max(axis=1)
    dense_z = ((cosines - means) / stds).max(axis=1)
    grams, weights = lexical.query_weights(text)
    lex_mean, lex_std = background.lexical_stats(grams, weights)
    lex_raw = lexical_all[np.searchsorted(lexical_ids, pids)].astype(np.float64)
    lex_z = (lex_raw - lex_mean) / lex_std if lex_std > 0 else np.zeros_like(lex_raw)
    keys = pids.tolist()
    return {
        "dense": _scores(keys, dense_raw, dense_z, (float(means[0]), float(stds[0]))),
        "lexical": _scores(keys, lex_raw, lex_z, (lex_mean, lex_std)),
    }


def _scores(
    keys: list[int], raw: np.ndarray, z: np.ndarray, background: tuple[float, float]
) -> ChannelScores:
    return ChannelScores(
        dict(zip(keys, raw.tolist(), strict=True)),
        dict(zip(keys, z.tolist(), strict=True)),
        float(z.min()),
        background,
    )


def dense_hits(
    index: VectorIndex, vectors: np.ndarray, depth: int, allowed: np.ndarray | None = None
) -> ChannelScores:
    """Top `depth` passages for a query given as one vector per chunk.

    A passage scores its best chunk, raw (cosine) and standardised by that chunk's mean and
    standard deviation over every indexed vector (`VectorIndex.score_stats`).
    """
    means, stds = index.score_stats(vectors)
    scores, ids = index.search(vectors, depth, allowed)
    raw: dict[int, float] = {}
    z: dict[int, float] = {}
    for row, (mean, std) in enumerate(zip(means, stds, strict=True)):
        for score, pid in zip(scores[row].tolist(), ids[row].tolist(), strict=True):
            if pid < 0:
                continue
            raw[pid] = max(raw.get(pid, -2.0), score)
            z[pid] = max(z.get(pid, -np.inf), (score - mean) / std if std > 0 else 0.0)
    return ChannelScores(raw, z, min(z.values()) if z else 0.0)


def lexical_hits(
    index: LexicalIndex, text: str, depth: int, allowed: np.ndarray | None = None
) -> ChannelScores:
    """Top `depth` passages sharing an n-gram with `text`, standardised over the index."""
    found = index.search(text, depth, allowed)
    std = found.std if found.std > 0 else 1.0
    z_values = (found.scores - found.mean) / std
    ids = found.ids.tolist()
    raw = dict(zip(ids, found.scores.tolist(), strict=True))
    z = dict(zip(ids, z_values.tolist(), strict=True))
    # An unretrieved passage scores 0 (it shares no n-gram) or below the depth-th hit.
    floor = float(z_values.min()) if len(z_values) == depth else -found.mean / std
    return ChannelScores(raw, z, floor)
