"""Load typed records from JSONL or CSV files, naming the file and line of every bad row.

- The format follows the suffix: `.jsonl`/`.json-lines` or `.csv`. Text must be UTF-8, with or
  without a BOM. In JSONL, blank lines are not data.
- CSV cells are mapped onto the model: an empty cell is absent (the field's default); list
  fields (`applicants`, `ipc`, `national_bases`) are split on ";" or "；"; a nested model such
  as `region` is read from its own columns (`city`, `province`) or from a JSON cell (`region`).
- A bad row — malformed JSON, a missing or invalid field, an id seen before — raises
  `DataError(path, line, reason)`. With `skip_invalid=True` it is kept in `LoadReport.rejects`
  instead, so nothing is ever dropped silently. File-level problems (unreadable, unknown
  suffix, wrong encoding) always raise.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from corpus.errors import DataError
from corpus.models import Challenge, Organisation, Patent

T = TypeVar("T", bound=BaseModel)
Row = dict[str, Any]

JSONL_SUFFIXES = (".jsonl", ".json-lines")
CSV_SUFFIXES = (".csv",)
_LIST_SEPARATORS = (";", "；")


@dataclass
class LoadReport(Generic[T]):
    """The records that loaded, and the rows that did not (only with `skip_invalid=True`)."""

    records: list[T] = field(default_factory=list)
    rejects: list[DataError] = field(default_factory=list)


def load_records(
    path: str | Path,
    model: type[T],
    *,
    skip_invalid: bool = False,
    id_field: str | None = "id",
    prepare: Callable[[Row], Row] | None = None,
) -> LoadReport[T]:
    """Read `path` into `model` records; ids (`id_field`, None to skip) must be unique.

    `prepare` rewrites each raw row before validation (e.g. to derive a missing id).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in JSONL_SUFFIXES + CSV_SUFFIXES:
        wanted = ", ".join(JSONL_SUFFIXES + CSV_SUFFIXES)
        raise DataError(path, None, f"unsupported file type '{path.suffix}'; use {wanted}")
    text = _read_text(path)
    rows = _jsonl_rows(path, text) if suffix in JSONL_SUFFIXES else _csv_rows(path, text, model)

    report: LoadReport[T] = LoadReport()
    first_line_of: dict[str, int] = {}
    for line, row in rows:
        try:
            if isinstance(row, DataError):
                raise row
            record = _validate(path, line, model, prepare(row) if prepare else row)
            if id_field is not None:
                record_id = str(getattr(record, id_field))
                if record_id in first_line_of:
                    first = first_line_of[record_id]
                    raise DataError(
                        path, line, f"duplicate id '{record_id}' (first on line {first})"
                    )
                first_line_of[record_id] = line
            report.records.append(record)
        except DataError as error:
            if not skip_invalid:
                raise
            report.rejects.append(error)
    return report


def load_organisations(path: str | Path, *, skip_invalid: bool = False) -> LoadReport[Organisation]:
    """Organisations from JSONL or CSV."""
    return load_records(path, Organisation, skip_invalid=skip_invalid)


def load_patents(path: str | Path, *, skip_invalid: bool = False) -> LoadReport[Patent]:
    """Patents from JSONL or CSV."""
    return load_records(path, Patent, skip_invalid=skip_invalid)


def load_challenges(path: str | Path, *, skip_invalid: bool = False) -> LoadReport[Challenge]:
    """User challenges (`area`, `text`, optional `id`) from JSONL or CSV, marked source="user".

    A missing id is derived from the content: `USER-` + the first 8 hex digits of the SHA-1 of
    area + "\\n" + text, so the same challenge keeps its id across loads.
    """
    return load_records(path, Challenge, skip_invalid=skip_invalid, prepare=_as_user_challenge)


def user_challenge_id(area: str, text: str) -> str:
    """The id a user challenge without one gets: stable for the same area and text."""
    digest = hashlib.sha1(f"{area.strip()}\n{text.strip()}".encode()).hexdigest()
    return f"USER-{digest[:8]}"


def _as_user_challenge(row: Row) -> Row:
    row = {**row, "source": "user"}
    if not row.get("id"):
        row["id"] = user_challenge_id(str(row.get("area") or ""), str(row.get("text") or ""))
    return row


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DataError(path, None, f"cannot read file: {error.strerror or error}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise DataError(
            path, line, "not UTF-8 text (GBK or another encoding?); save the file as UTF-8"
        ) from None


def _jsonl_rows(path: Path, text: str) -> Iterator[tuple[int, Row | DataError]]:
    for line, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as error:
            yield line, DataError(path, line, f"invalid JSON: {error.msg} (column {error.colno})")
            continue
        if isinstance(value, dict):
            yield line, value
        else:
            yield line, DataError(path, line, f"expected a JSON object, got {type(value).__name__}")


def _csv_rows(
    path: Path, text: str, model: type[BaseModel]
) -> Iterator[tuple[int, Row | DataError]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    for cells in reader:
        # line_num is the record's last line; a quoted cell may span several.
        spanned = sum(str(value).count("\n") for value in cells.values() if value)
        line = reader.line_num - spanned
        try:
            yield line, _row_from_cells(path, line, cells, model)
        except DataError as error:
            yield line, error


def _row_from_cells(
    path: Path, line: int, cells: dict[str | None, Any], model: type[BaseModel]
) -> Row:
    if None in cells:
        raise DataError(path, line, "more cells than header columns")
    present = {
        name: value.strip() for name, value in cells.items() if name and value and value.strip()
    }
    row: Row = {}
    for name, info in model.model_fields.items():
        nested = _nested_model(info.annotation)
        if nested is not None:
            value = _nested_from_cells(path, line, name, nested, present)
        elif name in present and _is_list(info.annotation):
            value = _split_list(present[name])
        else:
            value = present.get(name)
        if value is not None:
            row[name] = value
    return row


def _nested_from_cells(
    path: Path, line: int, name: str, nested: type[BaseModel], present: dict[str, str]
) -> Any:
    if name in present:
        try:
            return json.loads(present[name])
        except json.JSONDecodeError:
            columns = "/".join(nested.model_fields)
            raise DataError(
                path, line, f"field '{name}': expected a JSON object, or use columns {columns}"
            ) from None
    parts = {key: present[key] for key in nested.model_fields if key in present}
    return parts or None


def _split_list(cell: str) -> list[str]:
    for separator in _LIST_SEPARATORS[1:]:
        cell = cell.replace(separator, _LIST_SEPARATORS[0])
    return [item.strip() for item in cell.split(_LIST_SEPARATORS[0]) if item.strip()]


def _is_list(annotation: Any) -> bool:
    return typing.get_origin(annotation) is list


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    candidates = typing.get_args(annotation) if _is_union(annotation) else (annotation,)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def _validate(path: Path, line: int, model: type[T], row: Row) -> T:
    try:
        return model.model_validate(row)
    except ValidationError as error:
        raise DataError(path, line, _condense(error)) from None


def _condense(error: ValidationError) -> str:
    """One line naming every failing field, e.g. "missing required field 'name'"."""
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "record"
        if item["type"] == "missing":
            problems.append(f"missing required field '{where}'")
        else:
            got = repr(item.get("input"))
            got = got if len(got) <= 40 else got[:37] + "..."
            problems.append(f"invalid field '{where}': {item['msg']} (got {got})")
    return "; ".join(problems)
