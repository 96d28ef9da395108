"""Two promises the confidence makes, measured over every catalogue challenge:

1. it does not move when unrelated documents are indexed: the same organisation and challenge
   over an index and over the same index plus other organisations' patents;
2. it never rises down a ranked list.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from corpus.models import Challenge
from matcher.engine import MatchEngine

TOP = 10


@dataclass(frozen=True)
class Shift:
    """One organisation on one challenge, before and after the other documents joined."""

    challenge_id: str
    org_id: str
    before: float
    after: float

    @property
    def delta(self) -> float:
        return abs(self.after - self.before)


@dataclass(frozen=True)
class InvarianceReport:
    """Every top-`TOP` candidate's confidence before and after, and the lists that rise."""

    shifts: list[Shift]
    rising: list[str] = field(default_factory=list)  # challenge ids, either index
    lists: int = 0

    def summary(self) -> dict[str, float | int]:
        deltas = np.array([s.delta for s in self.shifts]) if self.shifts else np.zeros(1)
        return {
            "pairs": len(self.shifts),
            "max_shift": round(float(deltas.max()), 4),
            "median_shift": round(float(np.median(deltas)), 4),
            "share_within_0.10": round(float((deltas <= 0.10).mean()), 4),
            "lists": self.lists,
            "lists_rising": len(self.rising),
        }


def rises(confidences: Sequence[float]) -> bool:
    """True when some confidence exceeds the one ranked above it."""
    return any(b > a + 1e-9 for a, b in itertools.pairwise(confidences))


def measure(
    before: MatchEngine, after: MatchEngine, challenges: Sequence[Challenge], top: int = TOP
) -> InvarianceReport:
    """Shifts of `before`'s top candidates' confidences in `after` (which indexes everything
    `before` does, and more), and the lists of either engine whose confidence rises."""
    shifts, rising = [], []
    for challenge in challenges:
        lists = []
        for engine in (before, after):
            result = engine.match(challenge.query_text, area=challenge.area, top=top,
                                  explain=False)  # fmt: skip
            lists.append(result.candidates)
            if rises([c.confidence for c in result.candidates]):
                rising.append(challenge.id)
        later = after.confidences(challenge.query_text, area=challenge.area)
        shifts += [
            Shift(challenge.id, c.org_id, c.confidence, round(later.get(c.org_id, 0.0), 4))
            for c in lists[0]
        ]
    return InvarianceReport(shifts, sorted(set(rising)), 2 * len(challenges))
