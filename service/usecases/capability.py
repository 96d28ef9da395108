"""Which challenges an organisation is capable for, and the scores behind it, computed once.

The organisation page asks, for one organisation, its confidence on every challenge; the
roadmap asks every challenge's confidences. Both are `MatchEngine.confidences` over the
challenge texts, so one memo serves both; whoever changes the organisations clears it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

from pydantic import BaseModel

from corpus.models import Challenge
from matcher.engine import MatchEngine
from matcher.evidence import CAPABILITY, Passage

MAX_TEXTS = 4096  # memo entries (one per challenge text); the oldest go first


class ChallengeScores:
    """`engine.confidences` of a challenge, memoised per text and area until `clear()`."""

    def __init__(self, max_texts: int = MAX_TEXTS) -> None:
        self._scores: OrderedDict[tuple[str, str], dict[str, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_texts

    def scores(self, engine: MatchEngine, challenge: Challenge) -> dict[str, float]:
        """Every organisation with evidence for `challenge` → its confidence (callers hold the
        engine's read lock)."""
        key = (challenge.query_text, challenge.area)
        with self._lock:
            if key in self._scores:
                self._scores.move_to_end(key)
                return self._scores[key]
        scores = engine.confidences(challenge.query_text, area=challenge.area)
        with self._lock:
            self._scores[key] = scores
            while len(self._scores) > self._max:
                self._scores.popitem(last=False)
        return scores

    def clear(self) -> None:
        with self._lock:
            self._scores.clear()


class CapableFor(BaseModel):
    """One challenge an organisation could contribute to, and where it ranks there."""

    challenge_id: str
    area: str
    text: str
    confidence: float
    rank: int
    capable: bool


def capable_for(
    engine: MatchEngine,
    memo: ChallengeScores,
    challenges: Sequence[Challenge],
    org_id: str,
    *,
    top: int = 20,
) -> list[CapableFor]:
    """The challenges where `org_id` reaches the engine's capable level, most confident first;
    when there are none, its best `top` challenges (marked `capable: false`) as leads."""
    level = engine.capable_confidence
    rows = []
    for challenge in challenges:
        scores = memo.scores(engine, challenge)
        confidence = scores.get(org_id)
        if confidence is None:
            continue
        rank = 1 + sum(1 for other in scores.values() if other > confidence)
        rows.append(
            CapableFor(
                challenge_id=challenge.id,
                area=challenge.area,
                text=challenge.text,
                confidence=round(confidence, 4),
                rank=rank,
                capable=confidence >= level,
            )
        )
    rows.sort(key=lambda row: (-row.confidence, row.challenge_id))
    capable = [row for row in rows if row.capable]
    return capable or rows[:top]


def evidence_of(engine: MatchEngine, org_id: str) -> list[Passage]:
    """The organisation's indexed passages: its capability statement, then its patents."""
    passages = [p for p in engine.passages.values() if p.group == org_id]
    return sorted(passages, key=lambda p: (p.source != CAPABILITY, p.doc_id, p.pid))
