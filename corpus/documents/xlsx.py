"""Workbooks (.xlsx) as sheets of text rows, with openpyxl.

Two ways to read, one result: `fill_merged=True` loads the workbook whole and gives every cell
of a merged range its anchor's value (exact, for the short lists people keep by hand);
`fill_merged=False` streams it in read-only mode, memory flat whatever its size (patent
exports), where merged cells read blank. Cells become text: dates as ISO dates (2021-03-05,
with the time only when it is not midnight), whole numbers without ".0", the rest as `str`.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from corpus.documents.errors import DocumentError

Row = list[str | None]


@dataclass(frozen=True)
class SheetRows:
    """One worksheet: its name and its rows as `(row number, cells)`, blank rows included."""

    name: str
    rows: Iterator[tuple[int, Row]]


def iter_sheets(
    path: str | Path, *, fill_merged: bool, shown: str | None = None
) -> Iterator[SheetRows]:
    """Every worksheet of the workbook at `path`, in order; each sheet's rows are consumed
    before the next sheet is asked for. A file openpyxl cannot open is a `DocumentError`
    naming it as `shown` (default: `path`)."""
    from openpyxl import load_workbook

    path = Path(path)
    try:
        book = load_workbook(path, read_only=not fill_merged, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        reason = f"not a readable .xlsx workbook (corrupt?): {type(error).__name__}"
        raise DocumentError(shown or path, None, reason) from None
    try:
        for sheet in book.worksheets:
            fills = _merged_values(sheet) if fill_merged else {}
            yield SheetRows(sheet.title, _rows(sheet, fills))
    finally:
        book.close()


def _rows(sheet, fills: dict[int, dict[int, object]]) -> Iterator[tuple[int, Row]]:
    for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1):
        cells = list(values)
        for column, value in fills.get(number, {}).items():
            cells.extend([None] * (column - len(cells)))
            cells[column - 1] = value
        yield number, [cell_text(value) for value in cells]


def _merged_values(sheet) -> dict[int, dict[int, object]]:
    """row → column → the anchor value, for every non-anchor cell of a merged range."""
    fills: dict[int, dict[int, object]] = {}
    for merged in sheet.merged_cells.ranges:
        value = sheet.cell(merged.min_row, merged.min_col).value
        for row in range(merged.min_row, merged.max_row + 1):
            for column in range(merged.min_col, merged.max_col + 1):
                if (row, column) != (merged.min_row, merged.min_col):
                    fills.setdefault(row, {})[column] = value
    return fills


def cell_text(value: object) -> str | None:
    """A cell as text: None when empty; dates ISO; 3.0 → "3"."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
