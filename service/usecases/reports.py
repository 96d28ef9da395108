"""The roadmap, assembled once: challenges × the engine's confidence × patent activity."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from corpus.models import Challenge
from matcher.engine import MatchEngine
from matcher.patents.landscape import Landscape, build_landscape
from matcher.patents.roadmap import ChallengeStatus, RoadmapRules, assess, load_roadmap_rules
from service.export.bulk import read_matches

# Two requests for the same job's landscape must not both write its files.
_LANDSCAPE_WRITE = threading.Lock()


def patent_counts(
    matches: Path, challenges: Sequence[Challenge], min_confidence: float = 0.0
) -> dict[str, int]:
    """Patents matched to each challenge in a bulk matches file."""
    tallies = build_landscape(read_matches(matches, min_confidence), challenges).challenges
    return {key: tally.patents for key, tally in tallies.items()}


def job_landscape(
    matches: Path, challenges: Sequence[Challenge], out_dir: Path
) -> tuple[Landscape, list[Path]]:
    """The landscape of a finished job's matches, and its files (CSV, XLSX, PNG charts)
    written into `out_dir` the first time (a job's output never changes)."""
    from service.export.landscape import write_landscape

    landscape = build_landscape(read_matches(matches), challenges)
    with _LANDSCAPE_WRITE:
        if not (out_dir / LANDSCAPE_DONE).is_file():
            write_landscape(landscape, out_dir)
            (out_dir / LANDSCAPE_DONE).touch()
    return landscape, sorted(p for p in out_dir.iterdir() if p.name != LANDSCAPE_DONE)


LANDSCAPE_DONE = ".complete"


def roadmap(
    engine: MatchEngine,
    challenges: Sequence[Challenge],
    *,
    rules_file: Path | None = None,
    counts: Mapping[str, int] | None = None,
    confidences: Callable[[Challenge], Mapping[str, float]] | None = None,
) -> tuple[list[ChallengeStatus], RoadmapRules]:
    """Every challenge's status and batch, and the rules that decided them.

    `confidences` defaults to the engine's own (a service passes its memo of it)."""
    rules = load_roadmap_rules(rules_file, capable=engine.capable_confidence)
    statuses = assess(
        challenges,
        rules,
        confidences=confidences
        or (lambda challenge: engine.confidences(challenge.query_text, area=challenge.area)),
        org_names={org_id: org.name for org_id, org in engine.organisations.items()},
        patent_counts=counts,
    )
    return statuses, rules
