"""The roadmap, assembled once: challenges × the engine's confidence × patent activity."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from corpus.models import Challenge
from matcher.engine import MatchEngine
from matcher.patents.landscape import build_landscape, read_matches
from matcher.patents.roadmap import ChallengeStatus, RoadmapRules, assess, load_roadmap_rules


def patent_counts(
    matches: Path, challenges: Sequence[Challenge], min_confidence: float = 0.0
) -> dict[str, int]:
    """Patents matched to each challenge in a bulk matches file."""
    tallies = build_landscape(read_matches(matches, min_confidence), challenges).challenges
    return {key: tally.patents for key, tally in tallies.items()}


def roadmap(
    engine: MatchEngine,
    challenges: Sequence[Challenge],
    *,
    rules_file: Path | None = None,
    counts: Mapping[str, int] | None = None,
) -> tuple[list[ChallengeStatus], RoadmapRules]:
    """Every challenge's status and batch, and the rules that decided them."""
    rules = load_roadmap_rules(rules_file, capable=engine.capable_confidence)
    statuses = assess(
        challenges,
        rules,
        score_organisations=engine.score_organisations,
        org_names={org_id: org.name for org_id, org in engine.organisations.items()},
        patent_counts=counts,
    )
    return statuses, rules
