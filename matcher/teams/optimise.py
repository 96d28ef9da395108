"""Weighted maximum coverage on a coverage matrix: the optimisation behind consortia.

A team T's value is F(T) = Σ_f w_f · max_{m ∈ T} cov[m, f]: monotone and submodular, so the
greedy choice of `size` rows reaches at least (1 − 1/e) of the best value (Nemhauser, Wolsey and
Fisher, 1978). Where enumerating all teams is cheap, `best_team` does so and is exact; otherwise it
polishes the greedy team with single swaps, which never lowers the value.

Side constraints are `requirements`: boolean masks over rows, each of which the team must hit at
least once (e.g. "is a university or institute"). The greedy keeps them satisfiable by spending a
slot on an unmet requirement once the remaining slots are only just enough.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Literal

import numpy as np

SearchMethod = Literal["exhaustive", "greedy+swap", "greedy"]


def team_value(cov: np.ndarray, weights: np.ndarray, team: Sequence[int]) -> float:
    """F(team) = Σ_f w_f · max over the team of cov[m, f]; 0 for an empty team."""
    if len(team) == 0:
        return 0.0
    return float(cov[list(team)].max(axis=0) @ weights)


def satisfies(team: Sequence[int], requirements: Sequence[np.ndarray]) -> bool:
    """True when every requirement mask is hit by some member."""
    members = list(team)
    return all(bool(mask[members].any()) for mask in requirements)


def greedy_max_coverage(
    cov: np.ndarray,
    weights: np.ndarray,
    size: int,
    *,
    fixed: Sequence[int] = (),
    allowed: np.ndarray | None = None,
    requirements: Sequence[np.ndarray] = (),
) -> list[int]:
    """Greedy team of up to `size` rows (fewer when `allowed` runs out), starting from `fixed`.

    Ties go to the lower row index, so callers order rows by preference.
    """
    n = cov.shape[0]
    allowed = np.ones(n, dtype=bool) if allowed is None else allowed.copy()
    team = list(fixed)
    allowed[team] = False
    current = cov[team].max(axis=0) if team else np.zeros(cov.shape[1])
    while len(team) < size:
        pool = allowed.copy()
        unmet = [mask for mask in requirements if not mask[team].any()]
        if unmet and len(unmet) >= size - len(team):
            needed = np.logical_or.reduce(unmet) & allowed
            if needed.any():
                pool = needed
        if not pool.any():
            break
        gains = (np.maximum(cov, current) - current) @ weights
        gains[~pool] = -np.inf
        best = int(np.argmax(gains))
        team.append(best)
        allowed[best] = False
        current = np.maximum(current, cov[best])
    return team


def swap_improve(
    cov: np.ndarray,
    weights: np.ndarray,
    team: Sequence[int],
    *,
    fixed: Sequence[int] = (),
    allowed: np.ndarray | None = None,
    requirements: Sequence[np.ndarray] = (),
    max_rounds: int = 50,
) -> list[int]:
    """Best-improvement single swaps (member out, non-member in) while the value rises."""
    n = cov.shape[0]
    allowed = np.ones(n, dtype=bool) if allowed is None else allowed
    team = list(team)
    best_value = team_value(cov, weights, team)
    for _ in range(max_rounds):
        best_swap: tuple[int, int] | None = None
        outside = [i for i in range(n) if allowed[i] and i not in team]
        for slot, member in enumerate(team):
            if member in fixed:
                continue
            rest = team[:slot] + team[slot + 1 :]
            for candidate in outside:
                trial = [*rest, candidate]
                value = team_value(cov, weights, trial)
                if value > best_value + 1e-12 and satisfies(trial, requirements):
                    best_value, best_swap = value, (slot, candidate)
        if best_swap is None:
            break
        team[best_swap[0]] = best_swap[1]
    return team


def exhaustive_max_coverage(
    cov: np.ndarray,
    weights: np.ndarray,
    size: int,
    *,
    fixed: Sequence[int] = (),
    allowed: np.ndarray | None = None,
    requirements: Sequence[np.ndarray] = (),
    chunk: int = 20_000,
) -> list[int] | None:
    """The best team of min(size, available) rows by enumeration; None if none is feasible."""
    n = cov.shape[0]
    allowed = np.ones(n, dtype=bool) if allowed is None else allowed.copy()
    allowed[list(fixed)] = False
    free = np.flatnonzero(allowed)
    k = min(size - len(fixed), len(free))
    if k <= 0:
        return list(fixed) if satisfies(fixed, requirements) else None
    base = cov[list(fixed)].max(axis=0) if fixed else np.zeros(cov.shape[1])
    best_value, best_team = -np.inf, None
    combos = itertools.combinations(free.tolist(), k)
    while batch := list(itertools.islice(combos, chunk)):
        rows = np.array(batch)
        values = np.maximum(cov[rows].max(axis=1), base) @ weights
        for mask in requirements:
            hit = mask[rows].any(axis=1) | bool(mask[list(fixed)].any())
            values[~hit] = -np.inf
        index = int(np.argmax(values))
        if values[index] > best_value:
            best_value, best_team = values[index], [*fixed, *batch[index]]
    return best_team if best_value > -np.inf else None


def best_team(
    cov: np.ndarray,
    weights: np.ndarray,
    size: int,
    *,
    fixed: Sequence[int] = (),
    allowed: np.ndarray | None = None,
    requirements: Sequence[np.ndarray] = (),
    exhaustive_limit: int = 200_000,
) -> tuple[list[int], SearchMethod]:
    """Exact by enumeration when C(available, slots) ≤ `exhaustive_limit`, else greedy + swaps."""
    n = cov.shape[0]
    available = int((np.ones(n, dtype=bool) if allowed is None else allowed).sum())
    available -= sum(1 for i in fixed if allowed is None or allowed[i])
    slots = max(0, min(size - len(fixed), available))
    if math.comb(available, slots) <= exhaustive_limit:
        team = exhaustive_max_coverage(
            cov, weights, size, fixed=fixed, allowed=allowed, requirements=requirements
        )
        if team is not None:
            return team, "exhaustive"
    team = greedy_max_coverage(
        cov, weights, size, fixed=fixed, allowed=allowed, requirements=requirements
    )
    improved = swap_improve(
        cov, weights, team, fixed=fixed, allowed=allowed, requirements=requirements
    )
    return improved, "greedy+swap"
