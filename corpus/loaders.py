"""Read JSONL, CSV or XLSX files row by row, and load them into typed records.

- `iter_rows(path)` streams the data rows of a file, never holding it whole: `(line, row)` with
  `line` the physical line the row starts on, and `row` a dict or the `DataError` that says why
  that row could not be read (broken JSON, not an object, not UTF-8, wrong CSV field count).
  File-level problems (unreadable file, unsupported suffix) raise.
- The format follows the suffix (`JSONL_SUFFIXES`, `CSV_SUFFIXES`, `XLSX_SUFFIXES`; `.tsv` is
  tab-separated). Text must be UTF-8, with or without a BOM. Blank lines and all-empty CSV
  records are not data. A workbook is read sheet by sheet under each sheet's header (titles and
  notes above it, two-row merged headers: `corpus.documents.tables`); its rows are numbered as in
  the sheet, and its errors name the sheet.
- `load_records` validates rows into a pydantic model. CSV and XLSX cells are mapped onto the
  model: an empty cell is absent (the field's default); list fields (`applicants`, `ipc`,
  `national_bases`) are split (`split_list`); a nested model such as `region` is read from its
  own columns (`city`, `province`) or from a JSON cell (`region`).
- A bad row — unreadable, a missing or invalid field, an id seen before — raises
  `DataError(path, line, reason)`. With `skip_invalid=True` it is kept in `LoadReport.rejects`
  instead, so nothing is ever dropped silently.
"""

from __future__ import annotations

import codecs
import csv
import functools
import json
import re
import types
import typing
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from corpus.documents.errors import SheetLine, row_error
from corpus.errors import DataError
from corpus.models import Challenge, Organisation, Patent

T = TypeVar("T", bound=BaseModel)
Row = dict[str, Any]

JSONL_SUFFIXES = (".jsonl", ".json-lines", ".ndjson", ".json")
CSV_SUFFIXES = (".csv", ".tsv")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
# ; ； 、 always separate; a comma does too, except before a company-form suffix ("Co., Ltd.").
_LIST_SEPARATORS = re.compile(
    r"[;；、]|[,，](?!\s*(?:ltd|inc|llc|co|corp|gmbh|limited|plc|ag|s\.?a)\b)", re.IGNORECASE
)
_SPACES = re.compile(r"\s+")
MAX_CELL_CHARS = 1_000_000
"""The longest CSV cell read (the csv module's default, 131,072, is below a long abstract)."""


class InvalidJsonRow(DataError):
    """A JSONL line that does not parse; `detail` is the parser's message and column."""

    def __init__(self, path: str | Path, line: int, detail: str) -> None:
        self.detail = detail
        super().__init__(path, line, f"invalid JSON: {detail}")


class NotUtf8Row(DataError):
    """A row holding bytes that are not UTF-8, or under a CSV header (`header_line`) that does."""

    def __init__(self, path: str | Path, line: int, header_line: int | None = None) -> None:
        what = "not UTF-8 text" if header_line is None else f"header (line {header_line}) not UTF-8"
        super().__init__(path, line, f"{what} (GBK or another encoding?); save the file as UTF-8")


class FieldCountRow(DataError):
    """A CSV record whose number of cells differs from the header's."""

    def __init__(self, path: str | Path, line: int, expected: int, got: int) -> None:
        self.expected, self.got = expected, got
        more_or_fewer = "more" if got > expected else "fewer"
        super().__init__(path, line, f"{more_or_fewer} cells than header columns")


Format = Literal["jsonl", "csv", "xlsx"]


def detect_format(path: Path) -> Format:
    """'jsonl', 'csv' (CSV includes tab-separated `.tsv`) or 'xlsx', from the suffix; else
    DataError."""
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in XLSX_SUFFIXES:
        return "xlsx"
    wanted = ", ".join(JSONL_SUFFIXES + CSV_SUFFIXES + XLSX_SUFFIXES)
    raise DataError(path, None, f"unsupported file type '{path.suffix}'; use {wanted}")


def iter_rows(path: str | Path) -> Iterator[tuple[int, Row | DataError]]:
    """Stream every data row of a JSONL, CSV or XLSX file as `(line, dict | DataError)`, in order.

    CSV rows map header cells to raw cell strings; under a header that is not UTF-8 every row is
    a NotUtf8Row. Raises DataError at once for an unsupported suffix or an unreadable file.
    Workbook rows (`_xlsx_rows`) are numbered by their row in the sheet.
    """
    path = Path(path)
    fmt = _checked_format(path)
    if fmt == "xlsx":
        return _xlsx_rows(path)
    return _jsonl_rows(path) if fmt == "jsonl" else _csv_rows(path)


def count_rows(path: str | Path) -> int:
    """How many items `iter_rows` yields, without parsing them (a cheap pass, for progress)."""
    path = Path(path)
    fmt = _checked_format(path)
    if fmt == "jsonl":
        return sum(1 for _ in _jsonl_lines(path))
    if fmt == "xlsx":
        return sum(1 for _ in _xlsx_rows(path))
    return max(sum(1 for _ in _csv_records(path)) - 1, 0)  # minus the header


FIELD_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "Patent": {
        "id": (
            "patent_id", "publication_number", "pub_no", "公开（公告）号", "公开号", "公告号",
            "申请号", "专利号", "文献号",
        ),
        "title": ("name", "标题", "名称", "专利名称", "发明名称"),
        "abstract": ("摘要", "摘要文本", "中文摘要"),
        "applicants": (
            "applicant", "assignee", "assignees", "申请（专利权）人", "申请人", "专利权人",
            "当前权利人", "当前专利权人",
        ),
        "ipc": ("ipc_codes", "IPC主分类号", "IPC分类号", "主分类号", "分类号", "IPC"),
        "date": (
            "application_date", "publication_date", "申请日", "公开（公告）日", "公开日",
            "公告日", "授权公告日",
        ),
        "address": ("申请人地址", "专利权人地址", "地址"),
    },
    "Organisation": {
        "id": ("org_id", "机构编号", "单位编号", "编号"),
        "name": ("机构名称", "单位名称", "名称"),
        "kind": ("type", "类型", "机构类型", "单位类型"),
        "capability": ("能力", "技术能力", "简介", "研究方向", "主营业务"),
        "city": ("城市", "所在城市"),
        "province": ("省份", "所在省份"),
    },
    "Challenge": {
        "id": ("编号",),
        "title": ("榜单名称", "难题名称", "需求名称", "项目名称", "榜单", "名称", "题目"),
        "area": ("领域", "所属领域", "重点领域", "技术领域", "行业领域"),
        "text": (
            "难题", "技术难题", "技术难点", "内容", "技术内容", "需求描述", "主要技术指标",
            "技术指标", "研究内容", "需求内容", "具体需求", "需求", "description",
        ),
        "issuer": ("发榜单位", "需求单位", "发布单位", "榜单发布单位", "需求企业"),
        "deadline": ("截止时间", "截止日期", "完成时限", "完成时间"),
        "no": ("序号",),
    },
}  # fmt: skip
"""Other spellings of each model's fields, English and Chinese. Header names are compared by
`header_key` (NFKC, so "（" = "(", case and spaces ignored); when several columns feed one
field, the spelling listed first wins (the field's own name before its aliases). A two-row
header's name "上/下" is tried whole, then by its lower part, then its upper part."""


def header_key(name: object) -> str:
    """A header name as compared: NFKC, lower case, no whitespace."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", str(name))).lower()


def field_for(name: object, model_name: str) -> str | None:
    """The field of `model_name` that a column named `name` feeds, or None."""
    found = _field_and_rank(name, model_name)
    return found[0] if found else None


def _field_and_rank(name: object, model_name: str) -> tuple[str, int] | None:
    spelled = _spellings(model_name)
    key = header_key(name)
    for candidate in (key, *reversed(key.split("/"))):
        if candidate in spelled:
            return spelled[candidate]
    return None


@functools.cache
def _spellings(model_name: str) -> dict[str, tuple[str, int]]:
    """header_key(spelling) → (field, rank): rank 0 for the field's name, then alias order."""
    found: dict[str, tuple[str, int]] = {}
    for field_name, names in FIELD_ALIASES.get(model_name, {}).items():
        for rank, alias in enumerate((field_name, *names)):
            found.setdefault(header_key(alias), (field_name, rank))
    return found


def canonical_fields(row: Row, model_name: str) -> Row:
    """`row` with known alias keys renamed to the model's field names.

    When several keys feed one field, the non-empty value under the best-ranked spelling wins.
    """
    out: Row = {}
    ranks: dict[str, tuple[bool, int]] = {}
    for key, value in row.items():
        name, rank = _field_and_rank(key, model_name) or (key, 0)
        better = (value is None or value == "", rank)  # non-empty first, then spelling rank
        if name not in out or better < ranks[name]:
            out[name], ranks[name] = value, better
    return out


def iter_records(path: str | Path) -> Iterator[tuple[int, Row]]:
    """`iter_rows`, raising the first bad row's `DataError` (file and line) instead."""
    for line, row in iter_rows(path):
        if isinstance(row, DataError):
            raise row
        yield line, row


def split_list(cell: str) -> list[str]:
    """The items of a list cell (several applicants, IPC codes) separated by ; ； 、 or a comma,
    stripped, empty ones dropped. A comma before Ltd/Inc/Co/Corp/GmbH… is part of a name."""
    return [text for item in _LIST_SEPARATORS.split(cell) if (text := item.strip())]


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
    rows = iter_rows(path)
    from_cells = detect_format(path) in ("csv", "xlsx")

    report: LoadReport[T] = LoadReport()
    first_line_of: dict[str, int] = {}
    for line, row in rows:
        try:
            if isinstance(row, DataError):
                raise row
            row = canonical_fields(row, model.__name__)
            if from_cells:
                row = _row_from_cells(path, line, row, model)
            else:  # a JSON string where a list belongs ("assignee": "甲公司；乙大学")
                row = {
                    name: split_list(value)
                    if isinstance(value, str)
                    and name in model.model_fields
                    and _is_list(model.model_fields[name].annotation)
                    else value
                    for name, value in row.items()
                }
            record = _validate(path, line, model, prepare(row) if prepare else row)
            if id_field is not None:
                record_id = str(getattr(record, id_field))
                if record_id in first_line_of:
                    first = first_line_of[record_id]
                    raise row_error(
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


AreaInferrer = Callable[[str], tuple[int | None, str]]
"""text → (catalogue area number, area name): where a challenge without an area belongs."""
IdMaker = Callable[[str, str], str]
"""(area as given, text), both stripped → the id of a challenge without one."""


def load_challenges(
    path: str | Path,
    *,
    new_id: IdMaker,
    skip_invalid: bool = False,
    infer_area: AreaInferrer | None = None,
) -> LoadReport[Challenge]:
    """User challenges (`text`, optional `area` and `id`) from JSONL or CSV, source="user".

    A missing id is `new_id(area, text)` (area as given, possibly empty: the id does not change
    when the area is inferred). A missing area is asked of `infer_area` and marked
    `area_inferred`; without an inferrer it is an error.
    """

    def prepare(row: Row) -> Row:
        area, text = str(row.get("area") or "").strip(), str(row.get("text") or "").strip()
        row = {**row, "source": "user", "id": row.get("id") or new_id(area, text)}
        if not area and infer_area is not None and text:
            number, name = infer_area(text)
            row = {**row, "area": name, "area_no": number, "area_inferred": True}
        return row

    return load_records(path, Challenge, skip_invalid=skip_invalid, prepare=prepare)


def _checked_format(path: Path) -> Format:
    fmt = detect_format(path)
    if fmt == "xlsx":
        from corpus.documents.formats import detect

        detect(path)  # a password-protected or corrupt workbook fails here, by name
        return fmt
    try:
        with path.open("rb"):
            pass  # open now, so a missing file fails before the first row is asked for
    except OSError as error:
        raise DataError(path, None, f"cannot read file: {error.strerror or error}") from None
    return fmt


def _xlsx_rows(path: Path) -> Iterator[tuple[int, Row | DataError]]:
    """The rows of every sheet under its header, streamed (read-only: merged cells read blank).

    The header is the first row naming two known fields of any model (`FIELD_ALIASES`); a sheet
    with content but no such row yields one DataError (line 0) for the sheet.
    """
    from corpus.documents.errors import Location
    from corpus.documents.tables import read_table
    from corpus.documents.xlsx import iter_sheets

    expected = ", ".join(next(iter(names.values()))[0] for names in FIELD_ALIASES.values())
    for sheet in iter_sheets(path, fill_merged=False):
        rows = ((Location(sheet=sheet.name, row=n), cells) for n, cells in sheet.rows)
        where = Location(sheet=sheet.name)
        for found in read_table(path, rows, _any_field, where=where, expected=expected):
            if isinstance(found, DataError):
                yield found.line or 0, found
            else:
                yield SheetLine(found[0].row or 0, sheet.name), found[1]


def _any_field(name: str) -> str | None:
    """The field any model's column `name` feeds."""
    return next((found for model in FIELD_ALIASES if (found := field_for(name, model))), None)


def _jsonl_lines(path: Path) -> Iterator[tuple[int, str | DataError]]:
    """(line, text) of every non-blank line, or the line's NotUtf8Row."""
    with path.open("rb") as handle:
        for line, raw in enumerate(handle, start=1):
            if line == 1:
                raw = raw.removeprefix(codecs.BOM_UTF8)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                yield line, NotUtf8Row(path, line)
                continue
            if text.strip():
                yield line, text


def _jsonl_rows(path: Path) -> Iterator[tuple[int, Row | DataError]]:
    for line, text in _jsonl_lines(path):
        if isinstance(text, DataError):
            yield line, text
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            yield line, InvalidJsonRow(path, line, f"{error.msg} (column {error.colno})")
            continue
        if isinstance(value, dict) and _has_lone_surrogate(value):
            yield line, DataError(path, line, "text with an unpaired surrogate (e.g. \\ud800)")
        elif isinstance(value, dict):
            yield line, value
        else:
            yield line, DataError(path, line, f"expected a JSON object, got {type(value).__name__}")


def _csv_rows(path: Path) -> Iterator[tuple[int, Row | DataError]]:
    records = _csv_records(path)
    header_line, header = next(records, (1, []))
    if isinstance(header, DataError):
        raise header
    bad_header = _undecodable(header)
    for line, cells in records:
        if isinstance(cells, DataError):
            yield line, cells
        elif bad_header:
            yield line, NotUtf8Row(path, line, header_line)
        elif _undecodable(cells):
            yield line, NotUtf8Row(path, line)
        elif len(cells) != len(header):
            yield line, FieldCountRow(path, line, len(header), len(cells))
        else:
            yield line, dict(zip(header, cells, strict=True))


def _csv_records(path: Path) -> Iterator[tuple[int, list[str] | DataError]]:
    """(start line, cells) of each CSV record with a non-blank cell; bad bytes become surrogates.

    A record the csv module cannot parse (a cell over `MAX_CELL_CHARS`) is a `DataError` for
    its line; reading goes on with the next record.
    """
    csv.field_size_limit(MAX_CELL_CHARS)
    with path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
        reader = csv.reader(handle, dialect=dialect)
        end_of_previous = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                start, end_of_previous = end_of_previous + 1, reader.line_num
                yield start, DataError(path, start, f"unreadable CSV record: {error}")
                continue
            # line_num is where the record ends; a quoted cell may span several lines.
            start, end_of_previous = end_of_previous + 1, reader.line_num
            if any(cell.strip() for cell in cells):
                yield start, cells


def _has_lone_surrogate(value: object) -> bool:
    """True when a JSON value holds text that cannot be encoded (an unpaired \\ud800 escape)."""
    if isinstance(value, str):
        return any("\ud800" <= char <= "\udfff" for char in value)
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False


def _undecodable(cells: list[str]) -> bool:
    return any("\udc80" <= char <= "\udcff" for cell in cells for char in cell)


def _row_from_cells(path: Path, line: int, cells: Row, model: type[BaseModel]) -> Row:
    present = {
        name: value.strip() for name, value in cells.items() if name and value and value.strip()
    }
    row: Row = {}
    for name, info in model.model_fields.items():
        nested = _nested_model(info.annotation)
        if nested is not None:
            value = _nested_from_cells(path, line, name, nested, present)
        elif name in present and _is_list(info.annotation):
            value = split_list(present[name])
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
            raise row_error(
                path, line, f"field '{name}': expected a JSON object, or use columns {columns}"
            ) from None
    parts = {key: present[key] for key in nested.model_fields if key in present}
    return parts or None


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
        raise row_error(path, line, _condense(error)) from None


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
