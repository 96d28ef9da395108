"""The bulk matches file: JSONL, CSV (UTF-8 with BOM) and XLSX, written as a stream, and read
back (JSONL, CSV) by `read_matches` for the landscape — the one owner of its fields.

JSONL rows are `PatentMatches` as JSON; CSV and XLSX are long-format (`CSV_COLUMNS`: one row per
match, or one with empty match cells for a patent with none; applicants joined by
`APPLICANT_SEPARATOR`).

JSONL and CSV are appended window by window and fsynced at each checkpoint (`sync` returns the
durable size the checkpoint records), so a resumed run truncates them back to it and goes on.
XLSX is one zip written at the end (`checkpointable = False`). CSV and XLSX cells go through
`cells.safe_cell`: a patent title starting with "=" is text, not a formula.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from corpus.errors import DataError
from corpus.models import year_of
from matcher.patents.bulk import PatentMatches
from matcher.patents.landscape import MatchedPatent
from service.export.cells import safe_row

OUTPUT_FORMATS = ("jsonl", "csv", "xlsx")
CSV_COLUMNS = (
    "line",
    "patent_id",
    "title",
    "applicants",
    "date",
    "rank",
    "challenge_id",
    "area_no",
    "area",
    "challenge",
    "cosine",
    "confidence",
    "sentence",
)
APPLICANT_SEPARATOR = "；"


def open_truncated(path: Path, size: int) -> io.BufferedWriter:
    """Open `path` for appending after cutting it to `size` bytes (0: a new, empty file)."""
    handle = path.open("r+b" if size and path.exists() else "wb")
    handle.truncate(size)
    handle.seek(size)
    return handle  # type: ignore[return-value]


def sync_handle(handle: io.BufferedWriter) -> int:
    handle.flush()
    os.fsync(handle.fileno())
    return handle.tell()


class Writer(Protocol):
    checkpointable: bool

    def write(self, results: list[PatentMatches]) -> None: ...

    def sync(self) -> int: ...

    def close(self) -> None: ...


def open_writer(fmt: str, output: Path, size: int) -> Writer:
    output.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "jsonl":
        return _JsonlWriter(open_truncated(output, size))
    if fmt == "csv":
        return _CsvWriter(open_truncated(output, size), header=size == 0)
    return _XlsxWriter(output)


class _JsonlWriter:
    checkpointable = True

    def __init__(self, handle: io.BufferedWriter) -> None:
        self.handle = handle

    def write(self, results: list[PatentMatches]) -> None:
        for result in results:
            self.handle.write((result.model_dump_json() + "\n").encode())

    def sync(self) -> int:
        return sync_handle(self.handle)

    def close(self) -> None:
        sync_handle(self.handle)
        self.handle.close()


def csv_records(result: PatentMatches) -> list[list[object]]:
    """The long-format rows of one patent: one per match, or one with empty match cells."""
    head = [
        result.line,
        result.patent_id,
        result.title,
        APPLICANT_SEPARATOR.join(result.applicants),
        result.date or "",
    ]
    if not result.matches:
        return [head + [""] * (len(CSV_COLUMNS) - len(head))]
    return [
        [
            *head,
            m.rank,
            m.challenge_id,
            m.area_no,
            m.area,
            m.challenge,
            m.cosine,
            m.confidence,
            m.sentence,
        ]
        for m in result.matches
    ]


class _CsvWriter:
    checkpointable = True

    def __init__(self, handle: io.BufferedWriter, header: bool) -> None:
        self.handle = handle
        self.buffer = io.StringIO()
        self.csv = csv.writer(self.buffer)
        if header:
            self.handle.write("\ufeff".encode())  # a BOM, so Excel opens the UTF-8 correctly
            self.csv.writerow(CSV_COLUMNS)

    def write(self, results: list[PatentMatches]) -> None:
        for result in results:
            self.csv.writerows(safe_row(record) for record in csv_records(result))
        self.handle.write(self.buffer.getvalue().encode())
        self.buffer.seek(0)
        self.buffer.truncate()

    def sync(self) -> int:
        self.write([])
        return sync_handle(self.handle)

    def close(self) -> None:
        self.sync()
        self.handle.close()


class _XlsxWriter:
    checkpointable = False

    def __init__(self, output: Path) -> None:
        from openpyxl import Workbook

        self.output = output
        self.book = Workbook(write_only=True)  # rows stream to a temporary file, not memory
        self.sheet = self.book.create_sheet("matches")
        self.sheet.append(list(CSV_COLUMNS))

    def write(self, results: list[PatentMatches]) -> None:
        for result in results:
            for record in csv_records(result):
                self.sheet.append(safe_row(record))

    def sync(self) -> int:
        return 0

    def close(self) -> None:
        self.book.save(self.output)


def read_matches(path: str | Path, min_confidence: float = 0.0) -> Iterator[MatchedPatent]:
    """Stream the patents of a bulk matches file (.jsonl or .csv), keeping the matches whose
    confidence reaches `min_confidence` (a patent left with none counts as unmatched)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, None, "no such file")
    if path.suffix.lower() == ".jsonl":
        yield from _read_jsonl(path, min_confidence)
    elif path.suffix.lower() == ".csv":
        yield from _read_csv(path, min_confidence)
    else:
        raise DataError(path, None, "matches must be the .jsonl or .csv that `patents match` wrote")


def _read_jsonl(path: Path, min_confidence: float) -> Iterator[MatchedPatent]:
    with path.open(encoding="utf-8-sig") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                yield MatchedPatent(
                    patent_id=str(row["patent_id"]),
                    applicants=tuple(row.get("applicants") or ()),
                    challenges=tuple(
                        (m["challenge_id"], m.get("area_no"), m["area"], m["challenge"])
                        for m in row.get("matches") or ()
                        if m["confidence"] >= min_confidence
                    ),
                    year=year_of(row.get("date")),
                )
            except (ValueError, KeyError, TypeError) as error:
                raise DataError(path, line_no, f"not a bulk matches row: {error}") from None


def _read_csv(path: Path, min_confidence: float) -> Iterator[MatchedPatent]:
    """Consecutive rows of one patent (the long format) are grouped back together."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        needed = {"line", "patent_id", "applicants", "challenge_id", "area", "confidence"}
        missing = needed - set(reader.fieldnames or ())
        if missing:
            wanted = ", ".join(sorted(missing))
            raise DataError(path, 1, f"not a bulk matches CSV: missing {wanted}")
        current: tuple[str, str] | None = None
        applicants: tuple[str, ...] = ()
        year: int | None = None
        found: list[tuple[str, int | None, str, str]] = []
        for row in reader:
            key = (row["line"], row["patent_id"])
            if key != current:
                if current is not None:
                    yield MatchedPatent(current[1], applicants, tuple(found), year)
                current, found = key, []
                applicants = tuple(a for a in row["applicants"].split(APPLICANT_SEPARATOR) if a)
                year = year_of(row.get("date"))
            if row["challenge_id"] and float(row["confidence"]) >= min_confidence:
                area_no = int(row["area_no"]) if row.get("area_no") else None
                found.append((row["challenge_id"], area_no, row["area"], row["challenge"]))
        if current is not None:
            yield MatchedPatent(current[1], applicants, tuple(found), year)
