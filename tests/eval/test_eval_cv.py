"""Cross-validation folds over queries: disjoint, complete, deterministic."""

from __future__ import annotations

import pytest

from eval.cv import query_folds

QIDS = [f"R{i:03d}" for i in range(1, 96)]


def test_folds_are_disjoint_and_cover_every_query_once() -> None:
    folds = query_folds(QIDS, 5, seed=0)
    tests = [set(test) for _, test in folds]
    assert sum(len(t) for t in tests) == len(QIDS) and set().union(*tests) == set(QIDS)
    for train, test in folds:
        assert not set(train) & set(test) and set(train) | set(test) == set(QIDS)
    assert {len(t) for t in tests} == {19}


def test_folds_depend_only_on_the_ids_k_and_seed() -> None:
    assert query_folds(QIDS, 5, seed=0) == query_folds(list(reversed(QIDS)), 5, seed=0)
    assert query_folds(QIDS, 5, seed=0) != query_folds(QIDS, 5, seed=1)
    with pytest.raises(ValueError, match="k"):
        query_folds(QIDS[:3], 5)
