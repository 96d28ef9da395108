"""Hybrid retrieval: the channels' hits fused into one score per passage, then per group.

The one component behind every hybrid search (Haystack's retrievers → joiner): a retriever
(`matcher.retrieval`) gives each channel's `ChannelScores`; `fuse_hits` mixes them under a
regime's `FusionConfig` (mode, weights and `rrf_k`, all honoured); `rank_groups` aggregates the
fused passages into one score per group. `MatchEngine.rank` uses both steps on the evidence,
`matcher.areas.ChallengeIndex` the fusion step on the catalogue's challenges. A query's passages
stay in arrays throughout: at 10⁵ indexed passages a query reaches tens of thousands of them,
and per-passage dictionaries were most of a match (BENCHMARKS.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from matcher.aggregate import AggregationConfig, aggregate
from matcher.fusion import ChannelScores, Fused, FusionConfig, Method, fuse
from matcher.passage_groups import PassageGroups


@dataclass(frozen=True)
class Ranking:
    """One query ranked: organisation scores, and the fused passages behind them (`Fused`)
    with the group code of each (`codes`; `code_of` for the groups ranked)."""

    scores: dict[str, float]
    fused: Fused
    codes: np.ndarray
    code_of: dict[str, int]

    def passages(self, group: str, n: int) -> list[int]:
        """`group`'s best `n` passages, best fused score first (ties: lower id first); [] for
        a group the query did not reach."""
        code = self.code_of.get(group)
        if code is None:
            return []
        rows = np.flatnonzero(self.codes == code)
        best = rows[np.lexsort((self.fused.pids[rows], -self.fused.scores[rows]))[:n]]
        return self.fused.pids[best].tolist()

    def row(self, pid: int) -> int:
        """Where passage `pid` (one the query reached) is in the `fused` arrays."""
        return int(np.searchsorted(self.fused.pids, pid))


def fuse_hits(
    hits: Mapping[str, ChannelScores], fusion: FusionConfig, method: Method = Method.hybrid
) -> Fused:
    """`method`'s channels of `hits` fused as `fusion` says (mode, weights, `rrf_k`)."""
    return fuse(
        {name: hits[name] for name in method.channels},
        fusion.weights_for(method),
        fusion.mode,
        fusion.rrf_k,
    )


def rank_groups(fused: Fused, groups: PassageGroups, aggregation: AggregationConfig) -> Ranking:
    """Fused passages aggregated into one score per group (`groups` knows who owns each)."""
    codes = groups.codes[fused.pids]
    present, totals = aggregate(
        codes, fused.scores, aggregation, floor=fused.floor, sizes=groups.sizes
    )
    # By name, as the organisations have always been listed (`confidences` keeps this order).
    codes_present = present.tolist()
    names = [groups.names[code] for code in codes_present]
    ranked = sorted(zip(names, codes_present, totals.tolist(), strict=True))
    scores = {name: total for name, _, total in ranked}
    return Ranking(scores, fused, codes, {name: code for name, code, _ in ranked})
