"""A shortlist: every challenge of a file ranked in one go (`jiebang match --file`, the page).

Each challenge is ranked exactly as a stored one would be (`Challenge.query_text`: the area, given
or inferred, before the text), so a shortlist agrees with importing the file and matching each id.
The workbook is `service.export.shortlist`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from corpus.models import Challenge
from matcher.engine import MatchEngine
from matcher.results import MatchResult
from service.usecases.matching import MatchRequest


@dataclass(frozen=True)
class RankedChallenge:
    """A challenge and its ranking."""

    challenge: Challenge
    result: MatchResult

    @property
    def capable(self) -> int:
        """Candidates (of those ranked) at or above the capable confidence."""
        level = self.result.capable
        if level is None:
            return 0
        return sum(1 for c in self.result.candidates if c.confidence >= level)


def rank_challenges(
    engine: MatchEngine,
    challenges: Sequence[Challenge],
    request: MatchRequest | None = None,
    *,
    on_progress: Callable[[int], None] | None = None,
) -> list[RankedChallenge]:
    """Rank candidates for each challenge under `request` (the default one when None), in
    order; `on_progress(1)` after each."""
    request = request or MatchRequest()
    ranked = []
    for challenge in challenges:
        result = request.match(engine, challenge.query_text, area=challenge.area)
        ranked.append(RankedChallenge(challenge, result))
        if on_progress is not None:
            on_progress(1)
    return ranked
