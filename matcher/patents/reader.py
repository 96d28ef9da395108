"""Stream patents from a JSONL or CSV file one row at a time, never holding the file.

Each data row yields a `PatentRow`: either a `Patent` or the reason it was rejected (broken JSON,
invalid UTF-8, no text, wrong field count). Rows are numbered by the physical line they start on,
and every non-blank row counts, rejected or not, so a row count is a stable resume position.

Column names are matched case-insensitively against common English and Chinese spellings
(`FIELD_ALIASES`); a row without an id gets `<file stem>:<line>`.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from corpus.errors import DataError
from corpus.models import Patent

FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "id": (
        "id",
        "patent_id",
        "publication_number",
        "pub_no",
        "公开号",
        "公告号",
        "申请号",
        "专利号",
    ),
    "title": ("title", "name", "标题", "名称", "专利名称", "发明名称"),
    "abstract": ("abstract", "摘要", "摘要文本"),
    "applicants": ("applicants", "applicant", "assignee", "assignees", "申请人", "专利权人"),
    "ipc": ("ipc", "ipc_codes", "分类号", "ipc分类号", "主分类号"),
    "date": ("date", "application_date", "publication_date", "申请日", "公开日"),
}
_LIST_SEPARATORS = re.compile(r"[;；]")  # as corpus.loaders


@dataclass(frozen=True)
class PatentRow:
    """One data row: `patent` when it parsed, else `reason` says why it was rejected."""

    line: int
    patent: Patent | None = None
    reason: str | None = None


def detect_format(path: Path) -> str:
    """'jsonl' or 'csv', from the file suffix."""
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".json", ".ndjson"}:
        return "jsonl"
    if suffix in {".csv", ".tsv"}:
        return "csv"
    raise DataError(path, None, f"unknown patent file type {suffix!r}: use .jsonl or .csv")


def iter_patent_rows(path: str | Path) -> Iterator[PatentRow]:
    """Yield every non-blank data row of a patent file, in order, as a `PatentRow`."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, None, "no such file")
    reader = _iter_jsonl if detect_format(path) == "jsonl" else _iter_csv
    yield from reader(path)


def count_rows(path: str | Path) -> int:
    """The number of rows `iter_patent_rows` will yield (a cheap pass, for progress and ETA)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, None, "no such file")
    if detect_format(path) == "jsonl":
        with path.open("rb") as handle:
            return sum(1 for raw in handle if raw.strip())
    return max(sum(1 for _ in _iter_csv_records(path)) - 1, 0)  # minus the header


def patent_from_record(record: dict[str, object], default_id: str) -> Patent:
    """Build a `Patent` from a dict whose keys may use any spelling in `FIELD_ALIASES`.

    Raises ValueError with a short reason when the row has no usable text.
    """
    lowered = {str(key).strip().lower(): value for key, value in record.items()}
    fields = {name: _first(lowered, aliases) for name, aliases in FIELD_ALIASES.items()}
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
        )
    except ValidationError as error:
        first = error.errors()[0]
        raise ValueError(f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from None


def _first(record: dict[str, object], aliases: Iterable[str]) -> object:
    for alias in aliases:
        if alias in record and record[alias] not in (None, ""):
            return record[alias]
    return None


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _as_list(value: object) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else _LIST_SEPARATORS.split(str(value))
    return [text for item in items if (text := str(item).strip())]


def _iter_jsonl(path: Path) -> Iterator[PatentRow]:
    with path.open("rb") as handle:
        for line_no, raw in enumerate(handle, start=1):
            if line_no == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if not raw.strip():
                continue
            try:
                record = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as error:
                yield PatentRow(line_no, reason=f"invalid UTF-8 at byte {error.start}")
                continue
            except json.JSONDecodeError as error:
                yield PatentRow(line_no, reason=f"broken JSON: {error.msg} (column {error.colno})")
                continue
            if not isinstance(record, dict):
                yield PatentRow(line_no, reason="not a JSON object")
                continue
            yield _row(record, path, line_no)


def _iter_csv(path: Path) -> Iterator[PatentRow]:
    records = _iter_csv_records(path)
    _, header = next(records, (0, []))
    if not header:
        return
    for line_no, values in records:
        if any("\udc80" <= char <= "\udcff" for value in values for char in value):
            yield PatentRow(line_no, reason="invalid UTF-8")
        elif len(values) != len(header):
            yield PatentRow(line_no, reason=f"expected {len(header)} fields, got {len(values)}")
        else:
            yield _row(dict(zip(header, values, strict=True)), path, line_no)


def _iter_csv_records(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(start line, fields) of every non-blank CSV record; undecodable bytes kept as surrogates."""
    with path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
        reader = csv.reader(handle, dialect=dialect)
        end_of_previous = 0
        for values in reader:
            start, end_of_previous = end_of_previous + 1, reader.line_num
            if any(value.strip() for value in values):
                yield start, values


def _row(record: dict[str, object], path: Path, line_no: int) -> PatentRow:
    try:
        return PatentRow(line_no, patent=patent_from_record(record, f"{path.stem}:{line_no}"))
    except ValueError as error:
        return PatentRow(line_no, reason=str(error))
