"""Cells a spreadsheet can hold safely, whatever text users or patents bring.

A cell that starts with `=`, `+`, `-` or `@` is a formula to Excel and LibreOffice, and one that
starts with a tab or carriage return is read past to the next character (OWASP, "CSV
injection"); such text gets a leading apostrophe, which spreadsheets show as text. Characters
XLSX cannot store (control characters) are dropped. Numbers and None pass through.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def safe_cell(value: object) -> object:
    """The value as a spreadsheet may show it: text neutralised, anything else unchanged."""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_START):
        value = "'" + value
    return _ILLEGAL.sub("", value)


def safe_row(values: Iterable[object]) -> list[object]:
    """`safe_cell` over a row."""
    return [safe_cell(value) for value in values]
