"""Evidence hits → one score per organisation. This is where a passage's match becomes a rank.

Every mode first subtracts the query's floor (the weakest retrieved hit), because e5 cosines sit
in a narrow band (≈0.84 unrelated, ≈0.89 related): only the margin above the floor is evidence.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from enum import StrEnum


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
    per_group: dict[str, list[float]] = defaultdict(list)
    for group, score in hits:
        per_group[group].append(score)
    if not per_group:
        return {}
    floor = min(min(scores) for scores in per_group.values())
    result: dict[str, float] = {}
    for group, scores in per_group.items():
        margins = sorted((s - floor for s in scores), reverse=True)
        if mode is Aggregation.max:
            result[group] = margins[0]
        elif mode is Aggregation.topk_decay:
            result[group] = sum(m * decay**i for i, m in enumerate(margins[:k]))
        elif mode is Aggregation.combmnz:
            result[group] = sum(margins) * len(margins)
        elif mode is Aggregation.balog:
            if docs_per_group is None:
                raise ValueError("balog aggregation needs docs_per_group")
            total = sum(math.exp(m / temperature) - 1.0 for m in margins)
            result[group] = total / max(docs_per_group.get(group, len(margins)), 1)
    return result
