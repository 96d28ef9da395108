"""One query ranked: what `MatchEngine.rank` hands to confidence and explanations."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Ranking:
    """One query ranked: organisation scores, fused passage scores, channel contributions, and
    each organisation's passages, best fused score first."""

    scores: dict[str, float]
    fused: dict[int, float]
    contributions: dict[str, dict[int, float]]
    floor: float
    by_group: dict[str, list[int]]
