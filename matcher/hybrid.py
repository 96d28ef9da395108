"""Hybrid retrieval: the channels' hits fused into one score per passage, then per group.

The one component behind every hybrid search (Haystack's retrievers → joiner): a retriever
(`matcher.retrieval`) gives each channel's `ChannelScores`; `fuse_hits` mixes them under a
regime's `FusionConfig` (mode, weights and `rrf_k`, all honoured); `rank_groups` aggregates the
fused passages into one score per group. `MatchEngine.rank` uses both steps on the evidence,
`matcher.areas.ChallengeIndex` the fusion step on the catalogue's challenges.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from matcher.aggregate import AggregationConfig, aggregate
from matcher.fusion import ChannelScores, FusionConfig, Method, fuse


@dataclass(frozen=True)
class Fused:
    """A query's passages fused: score per passage, each channel's weighted contribution per
    passage (what explanations show), and the fused score of a passage no channel retrieved."""

    scores: dict[int, float]
    contributions: dict[str, dict[int, float]]
    floor: float


@dataclass(frozen=True)
class Ranking:
    """One query ranked: organisation scores, fused passage scores, channel contributions, and
    each organisation's passages, best fused score first."""

    scores: dict[str, float]
    fused: dict[int, float]
    contributions: dict[str, dict[int, float]]
    floor: float
    by_group: dict[str, list[int]]


def fuse_hits(
    hits: Mapping[str, ChannelScores], fusion: FusionConfig, method: Method = Method.hybrid
) -> Fused:
    """`method`'s channels of `hits` fused as `fusion` says (mode, weights, `rrf_k`)."""
    fused, contributions, floor = fuse(
        {name: hits[name] for name in method.channels},
        fusion.weights_for(method),
        fusion.mode,
        fusion.rrf_k,
    )
    return Fused(fused, contributions, floor)


def rank_groups(
    fused: Fused,
    group_of_pid: np.ndarray,
    aggregation: AggregationConfig,
    docs_per_group: Mapping[str, int],
) -> Ranking:
    """Fused passages aggregated into one score per group (`group_of_pid[pid]` owns `pid`)."""
    pids = np.fromiter(fused.scores, dtype=np.int64, count=len(fused.scores))
    values = np.fromiter(fused.scores.values(), dtype=np.float64, count=len(fused.scores))
    groups = group_of_pid[pids]
    scores = aggregate(
        groups, values, aggregation, floor=fused.floor, docs_per_group=docs_per_group
    )
    by_group = _passages_by_group(pids, values, groups)
    return Ranking(scores, fused.scores, fused.contributions, fused.floor, by_group)


def _passages_by_group(
    pids: np.ndarray, scores: np.ndarray, groups: np.ndarray
) -> dict[str, list[int]]:
    """Each group's passages, best score first (ties: lower id first)."""
    per_group: dict[str, list[int]] = defaultdict(list)
    pid_list, group_list = pids.tolist(), groups.tolist()
    for i in np.lexsort((pids, -scores)).tolist():
        per_group[group_list[i]].append(pid_list[i])
    return per_group
