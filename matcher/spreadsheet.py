"""Cells every XLSX/CSV export can hold safely, whatever text users or patents bring."""

from __future__ import annotations

from collections.abc import Iterable

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE


def safe_cell(value: object) -> object:
    """Strip control characters openpyxl rejects; quote text a spreadsheet would run as a formula.

    Numbers and None pass through unchanged.
    """
    if not isinstance(value, str):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


def safe_row(values: Iterable[object]) -> list[object]:
    """`safe_cell` over a row."""
    return [safe_cell(value) for value in values]
