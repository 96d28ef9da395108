"""Tables whose header names their columns: find the header, name the columns, stream the rows.

Real lists put a title, notes or blank rows above the header, and often a two-row header whose
upper cells are merged over several columns (技术内容 over 研究内容 | 考核指标) or down over both
rows (序号). The header is the first row, among the first `MAX_HEADER_ROWS`, in which at least
two cells name known fields; the row under it is part of the header when its cells are names
too (a known field, the cell above repeated by a merge, or under a blank upper cell). A column is
named "upper/lower" ("技术内容/研究内容"), just "upper" when the lower cell is blank or repeats it,
and a blank upper cell over a named lower one takes the upper name on its left (a merge that
reads blank). Field recognition (`recognise`) is the caller's: `corpus.loaders.field_for`.

Data rows are the rows below the header with a non-blank cell, except a repeat of the header (a
table continued on the next page). Each yields `(location, {column name: text})` with blank
cells left out; merged-away cells must already be filled or blank.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from corpus.documents.errors import DocumentError, Location

MAX_HEADER_ROWS = 30
Cells = Sequence[str | None]
Recognise = Callable[[str], str | None]


@dataclass(frozen=True)
class Header:
    """The names of a table's columns and the field each feeds (None: not a known field)."""

    names: tuple[str, ...]
    fields: tuple[str | None, ...]
    rows: int  # how many rows it spans (1 or 2)

    def describe(self) -> str:
        """The header as a user sees it, for messages."""
        return " | ".join(name for name in self.names if name)


def blank(cell: str | None) -> bool:
    return cell is None or not cell.strip()


def find_header(rows: Sequence[Cells], recognise: Recognise) -> tuple[int, Header] | None:
    """(index of the header's first row, header) in `rows`, or None when no row names fields."""
    for index, cells in enumerate(rows[:MAX_HEADER_ROWS]):
        known = {recognise(cell) for cell in cells if cell is not None and not blank(cell)} - {None}
        if len(known) >= 2:
            below = rows[index + 1] if index + 1 < len(rows) else None
            return index, _header(cells, below, recognise)
    return None


def _header(top: Cells, below: Cells | None, recognise: Recognise) -> Header:
    width = max(len(top), len(below or ()))
    upper = [_text(top[i]) if i < len(top) else "" for i in range(width)]
    lower = [_text(below[i]) if below and i < len(below) else "" for i in range(width)]
    if below is None or not _is_sub_header(upper, lower, recognise):
        return _named(upper, 1, recognise)
    names = []
    left = ""
    for up, low in zip(upper, lower, strict=True):
        if up:
            left = up
        elif low:
            up = left  # a merge across columns reads blank to the right of its anchor
        names.append(up if not low or low == up else (f"{up}/{low}" if up else low))
    return _named(names, 2, recognise)


def _is_sub_header(upper: list[str], lower: list[str], recognise: Recognise) -> bool:
    """True when every non-blank lower cell is a name, and one of them names a known field or
    sits under a blank upper cell (the lower row of a merged header)."""
    named = False
    for up, low in zip(upper, lower, strict=True):
        if not low:
            continue
        if recognise(low) is not None or not up:
            named = True
        elif low != up:
            return False
    return named


def _named(names: list[str], rows: int, recognise: Recognise) -> Header:
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 or not name else f"{name}/{seen[name]}")
    return Header(tuple(unique), tuple(recognise(n) if n else None for n in unique), rows)


def read_table(
    path: str | Path,
    rows: Iterable[tuple[Location, Cells]],
    recognise: Recognise,
    *,
    where: Location,
    expected: str,
    header: Header | None = None,
    check: Callable[[Header], str | None] = lambda _: None,
) -> Iterator[tuple[Location, dict[str, str]] | DocumentError]:
    """The data rows of one table (a sheet, a Word table, a PDF table) as named cells.

    Without a `header` given (a table continuing one), the header is searched among the first
    rows; a table with rows but no header yields one `DocumentError` at `where` (saying which
    column names were `expected`) and stops; so does one whose header `check` finds a reason
    against (e.g. no text column).
    """
    stream = iter(rows)
    if header is None:
        head: list[tuple[Location, Cells]] = []
        for item in stream:
            head.append(item)
            if len(head) > MAX_HEADER_ROWS + 1:
                break
        found = find_header([cells for _, cells in head], recognise)
        if found is None:
            if any(not blank(c) for _, cells in head for c in cells):
                reason = f"no recognisable header in the first {MAX_HEADER_ROWS} rows"
                yield DocumentError(path, where, f"{reason} (expected columns such as {expected})")
            return
        start, header = found
        refused = check(header)
        if refused is not None:
            yield DocumentError(path, where, refused)
            return
        body: Iterable[tuple[Location, Cells]] = _chain(head[start + header.rows :], stream)
    else:
        body = stream
    for location, cells in body:
        named = {
            name: _text(cell)
            for name, cell in zip(header.names, cells, strict=False)
            if name and not blank(cell)
        }
        if named and not _repeats_header(named, recognise):
            yield location, named


def _repeats_header(named: dict[str, str], recognise: Recognise) -> bool:
    """A header row again (a table continued on the next page): every cell is a name."""
    return all(
        recognise(text) is not None or text in name.split("/") for name, text in named.items()
    )


def _chain(
    first: list[tuple[Location, Cells]], rest: Iterator[tuple[Location, Cells]]
) -> Iterator[tuple[Location, Cells]]:
    yield from first
    yield from rest


def _text(cell: str | None) -> str:
    return "" if cell is None else cell.strip()
