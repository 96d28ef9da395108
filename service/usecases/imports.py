"""Importing a challenge list: a file's items become challenges, stored together or not at all.

`challenges_from_file` reads the items (`corpus.documents.challenges`), gives each its stable id
(`ChallengeBook.new_id(Origin.imported, …)`),
keeps the area the file gives (numbered when it is a catalogue area's name) or infers the nearest
catalogue area (`area_inferred`), and keeps title, issuer, deadline and where it came from.
`store_challenges` writes them in one transaction: a re-import replaces, never duplicates.
Challenges are stored like posted ones (`source="posted"`), so every face lists, matches and
deletes them the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from corpus.catalogue import Catalogue
from corpus.documents.challenges import read_challenge_items
from corpus.errors import DataError
from corpus.models import Challenge
from service.db import Database
from service.usecases.challenges import ChallengeBook, Origin, imported_key

POSTED = "posted"
AreaInferrer = Callable[[str], tuple[int | None, str]]


@dataclass
class ChallengeImport:
    """The challenges of a file, and the items skipped (with `skip_invalid`)."""

    file_name: str
    challenges: list[Challenge] = field(default_factory=list)
    rejects: list[DataError] = field(default_factory=list)


def challenges_from_file(
    path: str | Path,
    catalogue: Catalogue,
    infer_area: AreaInferrer,
    *,
    name: str | None = None,
    skip_invalid: bool = False,
) -> ChallengeImport:
    """The challenges in the file at `path` (named `name` in ids and messages: an upload's
    original name). Raises the first bad item's `DataError` unless `skip_invalid`."""
    shown = name or str(path)
    report = read_challenge_items(path, name=shown, skip_invalid=skip_invalid)
    numbers = {area.name: area.no for area in catalogue.areas}
    result = ChallengeImport(Path(shown).name, rejects=report.rejects)
    for item in report.items:
        if item.area:
            area_no, area, inferred = numbers.get(item.area), item.area, False
        else:
            (area_no, area), inferred = infer_area(item.text), True
        result.challenges.append(
            Challenge(
                id=ChallengeBook.new_id(
                    Origin.imported, *imported_key(shown, item.title or item.text, item.issuer)
                ),
                area_no=area_no,
                area=area,
                area_inferred=inferred,
                text=item.text,
                source=POSTED,
                title=item.title,
                issuer=item.issuer,
                deadline=item.deadline,
                origin=item.origin(Path(shown).name),
            )
        )
    return result


def store_challenges(db: Database, challenges: list[Challenge]) -> tuple[int, int]:
    """Store all of `challenges` or none; (new, replaced)."""
    new = db.put_challenges(challenges)
    return new, len(challenges) - new
