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

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from embed.background import Background
from embed.lexical_index import LexicalIndex, best_positive
from embed.vector_index import VectorIndex
from matcher.fusion import ChannelScores


@dataclass(frozen=True)
class Query:
    """A query's text and its chunks' vectors (a long query is chunked like the passages)."""

    text: str
    vectors: np.ndarray


def evidence_hits(
    vectors: VectorIndex,
    lexical: LexicalIndex,
    background: Background,
    queries: Sequence[Query],
    depths: Sequence[int],
    expand: Callable[[np.ndarray], np.ndarray],
    allowed: np.ndarray | None = None,
) -> list[dict[str, ChannelScores]]:
    """Each query's exact scores in both channels for every passage `expand` adds to the ones
    the queries retrieve together.

    Query i retrieves its top `depths[i]` passages in each channel (within `allowed`; lexical
    ties at the cut: lower id first), and `expand` turns all of them into the passages to
    score (the engine: all passages of the organisations reached). Every query scores every
    one of them: a challenge's facets score each organisation the challenge reaches, however
    it was reached, so a facet can search shallower than the whole text and still cover every
    candidate shown. A passage scores its best chunk (dense). Each passage's vector is read
    once for all the queries.
    """
    # One search per depth for its queries' chunks, spread over the cores, each row's hits its
    # own (which query reached a passage does not matter: all of them score it).
    reached = []
    for depth in sorted(set(depths)):
        chunks = np.vstack([q.vectors for q, d in zip(queries, depths, strict=True) if d == depth])
        found = vectors.search_apart(chunks, depth, allowed)
        reached.append(found[found >= 0])
    # Every query's lexical scores come in the index's order: the filter is one mask over it,
    # and the passages to score are found in it once.
    lexical_scores = [lexical.scores(query.text) for query in queries]
    order = lexical_scores[0][0]
    within = np.isin(order, allowed) if allowed is not None else None
    for (_, scores), depth in zip(lexical_scores, depths, strict=True):
        reached.append(best_positive(order, scores, depth, within)[0])
    pids = expand(np.concatenate(reached))
    rows = np.vstack([query.vectors for query in queries])
    ends = np.cumsum([len(query.vectors) for query in queries])
    starts = ends - [len(query.vectors) for query in queries]
    cosines = vectors.cosines(pids, rows)
    at = np.searchsorted(order, pids)
    return [
        _scored(lexical, background, query, pids, cosines[start:end], scores[at])
        for query, (_, scores), start, end in zip(
            queries, lexical_scores, starts, ends, strict=True
        )
    ]


def _scored(
    lexical: LexicalIndex,
    background: Background,
    query: Query,
    pids: np.ndarray,
    cosines: np.ndarray,
    lexical_raw: np.ndarray,
) -> dict[str, ChannelScores]:
    """Both channels' scores of `pids`, from their cosines with each chunk (chunks × pids) and
    their lexical scores, standardised against the background."""
    if not len(pids):
        return {"dense": ChannelScores.empty(), "lexical": ChannelScores.empty()}
    means, stds = background.dense_stats(query.vectors)
    dense_raw = cosines.max(axis=0)
    dense_z = ((cosines - means[:, None]) / stds[:, None]).max(axis=0)
    grams, weights = lexical.query_weights(query.text)
    lex_mean, lex_std = background.lexical_stats(grams, weights)
    lex_raw = lexical_raw.astype(np.float64)
    lex_z = (lex_raw - lex_mean) / lex_std if lex_std > 0 else np.zeros_like(lex_raw)
    dense_background = (float(means[0]), float(stds[0]))
    return {
        "dense": ChannelScores(pids, dense_raw, dense_z, float(dense_z.min()), dense_background),
        "lexical": ChannelScores(pids, lex_raw, lex_z, float(lex_z.min()), (lex_mean, lex_std)),
    }


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
