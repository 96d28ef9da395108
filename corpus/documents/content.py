"""What a Word file or a PDF holds for an import: its tables and its paragraphs, in order."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from corpus.documents.errors import DocumentError, Location

_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_BREAKS = re.compile(r"[\x0b\x0c\r\u2028\u2029]")


@dataclass(frozen=True)
class Paragraph:
    """A paragraph outside tables. `list_item`: numbered by Word itself (the number is not in
    the text), as opposed to a number typed at its start."""

    text: str
    where: Location
    list_item: bool = False


@dataclass(frozen=True)
class Table:
    """A table: where it is (its number, its page) and its rows of cells, blank cells as None."""

    where: Location
    rows: list[tuple[Location, list[str | None]]]


@dataclass
class Content:
    """A document's tables and paragraphs, and the parts that could not be read (a page
    without a text layer)."""

    tables: list[Table] = field(default_factory=list)
    paragraphs: list[Paragraph] = field(default_factory=list)
    problems: list[DocumentError] = field(default_factory=list)


def clean_text(text: str) -> str:
    """Text as a challenge may hold it: line and page breaks as newlines, no control
    characters (a database, a spreadsheet or JSON may refuse them), outer space trimmed."""
    return _CONTROL.sub("", _BREAKS.sub("\n", text.replace("\r\n", "\n"))).strip()
