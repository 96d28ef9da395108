"""Weighted maximum coverage: greedy against brute force, constraints, swaps."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from matcher.teams.optimise import (
    best_team,
    greedy_max_coverage,
    satisfies,
    swap_improve,
    team_value,
)

GUARANTEE = 1 - 1 / math.e


def brute_force(cov, weights, size, requirements=()):
    best = -1.0
    for team in itertools.combinations(range(cov.shape[0]), size):
        if satisfies(team, requirements):
            best = max(best, team_value(cov, weights, team))
    return best


def random_instance(seed, n=9, facets=6):
    rng = np.random.default_rng(seed)
    cov = rng.random((n, facets)) * (rng.random((n, facets)) < 0.5)
    return cov, rng.random(facets) + 0.1


def test_team_value_is_weighted_sum_of_best_member_per_facet():
    cov = np.array([[0.9, 0.1], [0.2, 0.6]])
    assert team_value(cov, np.array([1.0, 2.0]), [0, 1]) == pytest.approx(0.9 + 2 * 0.6)
    assert team_value(cov, np.array([1.0, 2.0]), []) == 0.0


@pytest.mark.parametrize("seed", range(20))
def test_greedy_of_size_one_is_optimal(seed):
    cov, weights = random_instance(seed)
    team = greedy_max_coverage(cov, weights, 1)
    assert team_value(cov, weights, team) == pytest.approx(brute_force(cov, weights, 1))


@pytest.mark.parametrize("seed", range(20))
def test_greedy_is_optimal_when_facet_supports_are_disjoint(seed):
    # Each facet is covered by one organisation only: F is modular, greedy is exact.
    rng = np.random.default_rng(seed)
    n, facets = 8, 12
    owner = rng.integers(0, n, size=facets)
    cov = np.zeros((n, facets))
    cov[owner, np.arange(facets)] = rng.random(facets)
    weights = rng.random(facets) + 0.1
    for size in (2, 3, 4):
        team = greedy_max_coverage(cov, weights, size)
        assert team_value(cov, weights, team) == pytest.approx(brute_force(cov, weights, size))


@pytest.mark.parametrize("seed", range(40))
def test_greedy_is_within_one_minus_one_over_e_of_brute_force(seed):
    cov, weights = random_instance(seed)
    for size in (2, 3, 4):
        greedy = team_value(cov, weights, greedy_max_coverage(cov, weights, size))
        assert greedy >= GUARANTEE * brute_force(cov, weights, size) - 1e-9


def test_greedy_is_not_always_optimal_so_the_bound_test_has_teeth():
    # Row 0 covers two facets half-well; rows 1 and 2 each cover one perfectly.
    cov = np.array([[0.6, 0.6], [1.0, 0.0], [0.0, 1.0]])
    weights = np.ones(2)
    team = greedy_max_coverage(cov, weights, 2)
    assert team[0] == 0
    assert team_value(cov, weights, team) == pytest.approx(1.6)
    assert brute_force(cov, weights, 2) == pytest.approx(2.0)
    improved = swap_improve(cov, weights, team)
    assert team_value(cov, weights, improved) == pytest.approx(2.0)


@pytest.mark.parametrize("seed", range(30))
def test_best_team_is_exact_on_small_instances_and_meets_constraints(seed):
    cov, weights = random_instance(seed, n=10)
    rng = np.random.default_rng(1000 + seed)
    kinds = rng.integers(0, 3, size=10)
    kinds[rng.integers(0, 10)] = 1  # at least one of each kind exists
    kinds[(np.flatnonzero(kinds == 1)[0] + 1) % 10] = 2
    requirements = [kinds == 1, kinds == 2]
    for size in (2, 3, 4):
        team, method = best_team(cov, weights, size, requirements=requirements)
        assert method == "exhaustive"
        assert satisfies(team, requirements)
        assert len(set(team)) == size
        assert team_value(cov, weights, team) == pytest.approx(
            brute_force(cov, weights, size, requirements)
        )


@pytest.mark.parametrize("seed", range(30))
def test_greedy_with_swaps_keeps_constraints_and_fixed_members(seed):
    cov, weights = random_instance(seed, n=14)
    rng = np.random.default_rng(2000 + seed)
    academic = rng.random(14) < 0.2
    academic[13] = True
    allowed = rng.random(14) < 0.8
    allowed[13] = True
    allowed[0] = True
    team, method = best_team(
        cov, weights, 4, fixed=[0], allowed=allowed, requirements=[academic], exhaustive_limit=0
    )
    assert method == "greedy+swap"
    assert team[0] == 0
    assert satisfies(team, [academic])
    assert all(allowed[i] for i in team)
    assert len(set(team)) == len(team) == min(4, int(allowed.sum()))
    plain = greedy_max_coverage(
        cov, weights, 4, fixed=[0], allowed=allowed, requirements=[academic]
    )
    assert team_value(cov, weights, team) >= team_value(cov, weights, plain) - 1e-12


def test_greedy_stops_when_candidates_run_out():
    cov = np.eye(3)
    assert sorted(greedy_max_coverage(cov, np.ones(3), 5)) == [0, 1, 2]
