"""k-fold cross-validation over queries: deterministic, disjoint folds of query ids.

Anything fitted on a dev set (fusion weights, aggregation, confidence, area decisions) is
reported by its cross-validated figure: fitted on k−1 folds, scored on the held-out one, the
held-out scores of all k folds pooled into one run.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DEFAULT_FOLDS = 5
DEFAULT_SEED = 0


def query_folds(
    qids: Sequence[str], k: int = DEFAULT_FOLDS, seed: int = DEFAULT_SEED
) -> list[tuple[list[str], list[str]]]:
    """(train, test) query ids of each of `k` folds; every qid is in exactly one test fold.

    The assignment depends only on the sorted ids, `k` and `seed`, so it is the same in every
    run and on every machine.
    """
    ordered = sorted(set(qids))
    if not 2 <= k <= len(ordered):
        raise ValueError(f"need 2 ≤ k ≤ {len(ordered)} queries, got k={k}")
    permuted = np.random.default_rng(seed).permutation(len(ordered))
    fold_of = {ordered[i]: rank % k for rank, i in enumerate(permuted)}
    return [
        ([q for q in ordered if fold_of[q] != f], [q for q in ordered if fold_of[q] == f])
        for f in range(k)
    ]
