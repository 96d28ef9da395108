"""Stream patents from a JSONL or CSV file one row at a time, never holding the file.

Reading and splitting rows is `corpus.loaders.iter_rows`; this module adds the patent rules. Each
data row yields a `PatentRow`: either a `Patent` or the reason it was rejected (broken JSON,
invalid UTF-8, no text, wrong field count). Rows are numbered by the physical line they start on,
and every non-blank row counts, rejected or not, so a row count is a stable resume position.

Column names are matched case-insensitively against common English and Chinese spellings
(`corpus.loaders.FIELD_ALIASES`, the same for `jiebang index build`); a row without an id gets
`<file stem>:<line>`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from corpus.errors import DataError
from corpus.loaders import (
    FIELD_ALIASES,
    FieldCountRow,
    InvalidJsonRow,
    NotUtf8Row,
    canonical_fields,
    iter_rows,
    split_list,
)
from corpus.loaders import count_rows as count_rows  # re-exported: one row per iter_rows item
from corpus.loaders import detect_format as detect_format  # re-exported for upload checks
from corpus.models import Patent


@dataclass(frozen=True)
class PatentRow:
    """One data row: `patent` when it parsed, else `reason` says why it was rejected."""

    line: int
    patent: Patent | None = None
    reason: str | None = None


def iter_patent_rows(path: str | Path) -> Iterator[PatentRow]:
    """Yield every non-blank data row of a patent file, in order, as a `PatentRow`.

    Raises DataError at once for a missing file or an unsupported suffix.
    """
    path = Path(path)
    return (_patent_row(path, line, row) for line, row in iter_rows(path))


def patent_from_record(record: dict[str, object], default_id: str) -> Patent:
    """Build a `Patent` from a dict whose keys may use any spelling in `FIELD_ALIASES`.

    Raises ValueError with a short reason when the row has no usable text.
    """
    named = canonical_fields(record, "Patent")
    fields = {name: named.get(name) for name in FIELD_ALIASES["Patent"]}
    title = _text(fields["title"])
    abstract = _text(fields["abstract"])
    if not title and not abstract:
        raise ValueError("no text: title and abstract are both empty")
    if not title:
        raise ValueError("missing title")
    try:
        return Patent(
            id=_text(fields["id"]) or default_id,
            title=title,
            abstract=abstract,
            applicants=_as_list(fields["applicants"]),
            ipc=_as_list(fields["ipc"]),
            date=_text(fields["date"]) or None,
            address=_text(fields["address"]) or None,
        )
    except ValidationError as error:
        first = error.errors()[0]
        raise ValueError(f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from None


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _as_list(value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        return split_list(str(value))
    return [text for item in value if (text := str(item).strip())]


def _patent_row(path: Path, line: int, row: dict[str, object] | DataError) -> PatentRow:
    if isinstance(row, DataError):
        return PatentRow(line, reason=_reason(row))
    try:
        return PatentRow(line, patent=patent_from_record(row, f"{path.stem}:{line}"))
    except ValueError as error:
        return PatentRow(line, reason=str(error))


def _reason(error: DataError) -> str:
    """The wording patent rejects files have always used (users and scripts read them)."""
    if isinstance(error, InvalidJsonRow):
        return f"broken JSON: {error.detail}"
    if isinstance(error, NotUtf8Row):
        return "invalid UTF-8"
    if isinstance(error, FieldCountRow):
        return f"expected {error.expected} fields, got {error.got}"
    return error.reason
