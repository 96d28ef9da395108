"""Where in a document something went wrong, and the one-line error that says so.

A row of a CSV is named by its line; an item of a workbook, a Word file or a PDF needs more: the
sheet and row, the table and row, the page, or the item's number. `Location` holds those parts
and `DocumentError` prints them after the file name, e.g.
`榜单.xlsx: sheet 'Sheet1' row 7: empty text (no name and no description)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from corpus.errors import DataError


@dataclass(frozen=True)
class Location:
    """A place inside a document; every part is optional (a whole file has none)."""

    sheet: str | None = None
    page: int | None = None
    table: int | None = None
    row: int | None = None
    item: int | None = None

    def describe(self) -> str:
        """The parts that are set, in reading order: "sheet 'S' row 7", "page 2 item 3"."""
        parts = []
        if self.sheet is not None:
            parts.append(f"sheet '{self.sheet}'")
        if self.page is not None:
            parts.append(f"page {self.page}")
        if self.table is not None:
            parts.append(f"table {self.table}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.item is not None:
            parts.append(f"item {self.item}")
        return " ".join(parts)


class DocumentError(DataError):
    """A bad file, sheet, table, page or item: `path: where: reason` on one line.

    A `DataError` whose `line` is the row (or item) number, so code that handles row errors
    (`--skip-invalid` reports, rejects files) handles these too.
    """

    def __init__(self, path: str | Path, where: Location | None, reason: str) -> None:
        self.where = where or Location()
        super().__init__(path, self.where.row or self.where.item, reason)
        described = self.where.describe()
        message = f"{self.path}: {described}: {reason}" if described else f"{self.path}: {reason}"
        self.args = (message,)

    def __str__(self) -> str:
        return self.args[0]


class SheetLine(int):
    """A workbook row number that remembers its sheet, so a row error found later (a missing
    field, a duplicate id) can still name the sheet; it is an `int` wherever lines are."""

    sheet: str

    def __new__(cls, row: int, sheet: str) -> SheetLine:
        line = super().__new__(cls, row)
        line.sheet = sheet
        return line


def row_error(path: str | Path, line: int | None, reason: str) -> DataError:
    """The error for a row: "file:line: reason", or for a workbook row "file: sheet 'S' row
    7: reason"."""
    if isinstance(line, SheetLine):
        return DocumentError(path, Location(sheet=line.sheet, row=int(line)), reason)
    return DataError(path, line, reason)
