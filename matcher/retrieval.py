"""The two retrievers: a query's top passages in each channel, raw and z-scored over the index.

Both the engine (organisations' evidence) and bulk matching (the catalogue's challenges, a
patent as the query) retrieve through these, so a score means the same in both.
"""

from __future__ import annotations

import numpy as np

from embed.lexical_index import LexicalIndex
from embed.vector_index import VectorIndex
from matcher.fusion import ChannelScores


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
