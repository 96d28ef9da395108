"""Evidence hits → one score per organisation. This is where a passage's match becomes a rank.

Every mode first subtracts the query's floor (the weakest retrieved hit), because e5 cosines sit
in a narrow band (≈0.84 unrelated, ≈0.89 related): only the margin above the floor is evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

import numpy as np


class Aggregation(StrEnum):
    """How an organisation's passage scores combine."""

    max = "max"
    """Best passage only: one excellent patent is never drowned by a large portfolio."""
    topk_decay = "topk_decay"
    """Best k passages with geometric decay: rewards consistent depth, bounded by k."""
    combmnz = "combmnz"
    """Sum of scores times number of hits (Fox & Shaw): favours big portfolios."""
    balog = "balog"
    """Document-centric model (Balog et al. 2006): mean of exp(score/τ) over ALL the
    organisation's documents, so unrelated portfolio mass dilutes the score."""

    @classmethod
    def from_str(cls, value: str) -> Aggregation:
        try:
            return cls(value.strip().lower())
        except ValueError:
            options = ", ".join(m.value for m in cls)
            raise ValueError(f"unknown aggregation '{value}'; choose one of {options}") from None


def aggregate(
    hits: Iterable[tuple[str, float]],
    mode: Aggregation = Aggregation.max,
    *,
    docs_per_group: Mapping[str, int] | None = None,
    k: int = 3,
    decay: float = 0.5,
    temperature: float = 0.02,
) -> dict[str, float]:
    """Combine (group, passage score) hits into a score per group, higher is better.

    `docs_per_group` (the number of evidence passages each group owns) is needed by `balog`.
    """
    pairs = list(hits)
    if not pairs:
        return {}
    names, codes = np.unique([group for group, _ in pairs], return_inverse=True)
    margins = np.fromiter((score for _, score in pairs), dtype=np.float64, count=len(pairs))
    margins -= margins.min()
    counts = np.bincount(codes, minlength=len(names))
    if mode is Aggregation.max:
        totals = np.zeros(len(names))
        np.maximum.at(totals, codes, margins)
    elif mode is Aggregation.topk_decay:
        # Sort by group, best first within it; each hit's rank inside its group sets its weight.
        order = np.lexsort((-margins, codes))
        starts = np.cumsum(counts) - counts
        rank = np.arange(len(order)) - starts[codes[order]]
        weights = np.where(rank < k, decay ** rank.astype(np.float64), 0.0)
        totals = np.bincount(codes[order], weights=margins[order] * weights, minlength=len(names))
    elif mode is Aggregation.combmnz:
        totals = np.bincount(codes, weights=margins, minlength=len(names)) * counts
    else:
        if docs_per_group is None:
            raise ValueError("balog aggregation needs docs_per_group")
        boosts = np.expm1(np.minimum(margins / temperature, 700.0))  # exp overflows past 709
        owned = [max(docs_per_group.get(g, int(n)), 1)
                 for g, n in zip(names.tolist(), counts, strict=True)]  # fmt: skip
        totals = np.bincount(codes, weights=boosts, minlength=len(names)) / owned
    return dict(zip(names.tolist(), totals.tolist(), strict=True))
