"""Finding challenges: the catalogue, the user's challenges file and the posted ones, one lookup.

`ChallengeBook` is what both faces ask: the API over its database, the CLI over the same
database when one exists (so `jiebang match --challenge U-…` sees a challenge posted through the
API). `target` resolves what a user typed: a challenge id, a whole area (`ZJ2021-06`), or text.

The rule that tells them apart: one token of ASCII letters, digits and `-_.:` (no space, no
Chinese), starting with a letter or digit, is an id — `ZJ2021-06-01`, `U-1a2b3c4d5e`, `NOPE` —
and an id that names nothing is an error, never ranked as text. Anything else is text.

The ids of the challenges users add are assigned here only, by `ChallengeBook.new_id(origin,
*content)`: `<prefix>-<hex digits>`, the prefix and the number of digits fixed by the `Origin`
(`USER-` + 8 for the challenges file, `F-` + 10 for an imported list, `U-` + 10 for one posted
through the API). With content, the digits are the SHA-1 of its parts joined by newlines, so
the same challenge of a file gets the same id again (a re-import replaces it); without, they
are random (two postings of one text are two challenges). A given id is kept as given. The
schemes are those the ids already stored were made with, so every stored id stays valid.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from corpus.catalogue import ID_PREFIX, Catalogue, area_number
from corpus.errors import JiebangError
from corpus.models import Challenge, has_letters

_AREA_ID = re.compile(rf"{ID_PREFIX}-(\d{{1,2}})")
# Catalogue ids (ZJ2021-06-03), user ids (U-…, or any the API accepted): one ASCII token.
ID_LIKE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")


class Origin(Enum):
    """Where a user's challenge came from: its id's prefix and number of hex digits."""

    challenges_file = ("USER", 8)  # Settings.challenges_file: id from (area, text)
    imported = ("F", 10)  # a challenge list file: id from (file base name, title, issuer)
    posted = ("U", 10)  # POST /challenges without an id: random

    @property
    def prefix(self) -> str:
        return self.value[0]

    @property
    def digits(self) -> int:
        return self.value[1]


def imported_key(file_name: str, title: str, issuer: str | None) -> tuple[str, str, str]:
    """What identifies an imported item: the file's base name (NFKC, lower case; not its
    folder), the item's title (else its text) and its issuer."""
    base = unicodedata.normalize("NFKC", Path(file_name).name).strip().lower()
    return base, title, issuer or ""


@dataclass(frozen=True)
class Target:
    """What the user named: `label` to show, the `query` to rank, the `texts` to decompose."""

    label: str
    query: str
    area: str | None
    texts: tuple[str, ...]
    challenge: Challenge | None = None


@dataclass(frozen=True)
class ChallengeBook:
    """The catalogue (with the user's file) plus the stored, posted challenges."""

    catalogue: Catalogue
    stored: Callable[[], list[Challenge]] = list
    stored_one: Callable[[str], Challenge | None] = lambda _id: None

    @staticmethod
    def new_id(origin: Origin, *content: str) -> str:
        """The id of a challenge a user adds (the scheme is in the module's docstring)."""
        if content:
            digest = hashlib.sha1("\n".join(content).encode()).hexdigest()
        else:
            digest = uuid.uuid4().hex
        return f"{origin.prefix}-{digest[: origin.digits]}"

    def all(self) -> list[Challenge]:
        return [*self.catalogue.challenges, *self.stored()]

    def get(self, challenge_id: str) -> Challenge:
        """A challenge by id; an unknown one is a `JiebangError`."""
        challenge_id = challenge_id.strip()
        found = next((c for c in self.catalogue.challenges if c.id == challenge_id), None)
        found = found or self.stored_one(challenge_id)
        if found is None:
            raise JiebangError(f"unknown challenge id '{challenge_id}'")
        return found

    def by_area(self, area: str | None) -> list[Challenge]:
        """Every challenge, or those of one area (number, or part of its name)."""
        if area is None or not area.strip():
            return self.all()
        key = area.strip()
        if area_number(key) is not None:
            return [c for c in self.all() if c.area_no == area_number(key)]
        return [c for c in self.all() if key in c.area]

    def target(self, ref: str) -> Target:
        """An id, a whole catalogue area (`ZJ2021-06`), or free text."""
        ref = ref.strip()
        if not ref:
            raise JiebangError("the challenge text is empty")
        area = _AREA_ID.fullmatch(ref)
        if area:
            found = self.catalogue.by_area(int(area.group(1)))
            name = found[0].area
            query = f"{name}（{len(found)}项技术难点）"
            return Target(ref, query, name, tuple(c.text for c in found))
        if ID_LIKE.fullmatch(ref):
            try:
                one = self.get(ref)
            except JiebangError:
                raise JiebangError(
                    f"unknown challenge id '{ref}' (`jiebang challenges list` shows the ids; "
                    "a single ASCII word is read as an id, text needs Chinese or spaces)"
                ) from None
            return Target(one.id, one.query_text, one.area, (one.text,), one)
        if not has_letters(ref):
            raise JiebangError(
                "the challenge text has no Chinese or Latin letters: emoji, punctuation or "
                "digits alone match nothing"
            )
        return Target("text", ref, None, (ref,))
