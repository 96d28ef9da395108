"""Challenge lists (揭榜挂帅 榜单, technology-demand lists) from any supported file, as items.

- JSONL and CSV rows, workbook sheets, Word and PDF tables: a row is an item. Its columns are
  recognised by `corpus.loaders.FIELD_ALIASES["Challenge"]` (榜单名称/难题名称/需求名称/项目名称 →
  title; 技术内容/需求描述/主要技术指标/研究内容… → text; 领域/所属领域 → area; 发榜单位/需求单位
  → issuer; 截止时间 → deadline). Every sheet must have a header, and it must name a title or
  a text column. Several text columns are kept, in column order.
- A Word file or PDF without such a table: the items of its numbered list
  (`corpus.documents.numbered`), the heading as title and the paragraphs under it as text.
- An item's text is its title and its text cells or paragraphs, one per line, each as the
  source has it. An item with neither is an error; so is one repeating an earlier item's title
  (else text) and issuer: the importer derives an item's stable id from them and the file's
  name (`service.usecases.challenges.ChallengeBook.new_id`).

Errors name the file and the sheet and row, the table and row, the page or the item. With
`skip_invalid` they are collected in `ItemReport.rejects` and reading goes on; without it the
first one is raised, so nothing of a failing file is used.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from corpus.documents.content import Content, Table, clean_text
from corpus.documents.errors import DocumentError, Location
from corpus.documents.formats import DocumentFormat, detect
from corpus.documents.numbered import split_items
from corpus.documents.tables import Header, find_header, read_table
from corpus.errors import DataError
from corpus.loaders import field_for, iter_rows

MODEL = "Challenge"
MAX_TEXT_CHARS = 20_000
MAX_AREA_CHARS = 200
TEXT_COLUMNS = "榜单名称/难题名称/需求名称/项目名称 or 技术内容/需求描述/主要技术指标/研究内容"
EXPECTED = "序号, 榜单名称, 技术内容, 领域, 发榜单位, 截止时间"
NOTHING_FOUND = (
    "no challenges found: no table with a recognisable header (" + EXPECTED + ") and no "
    "numbered list (1. / （一） / 一、 / ① / 1）)"
)


@dataclass(frozen=True)
class ChallengeItem:
    """One challenge of a file: where it is, its text and the fields the file gave."""

    where: Location
    text: str
    title: str | None = None
    area: str | None = None
    issuer: str | None = None
    deadline: str | None = None

    def origin(self, file_name: str) -> str:
        """ "榜单.xlsx · sheet 'Sheet1' row 5": where to look for it in the source."""
        described = self.where.describe()
        return f"{file_name} · {described}" if described else file_name


@dataclass
class ItemReport:
    """The items read, and (with `skip_invalid`) the errors of those that were not."""

    items: list[ChallengeItem] = field(default_factory=list)
    rejects: list[DataError] = field(default_factory=list)


def read_challenge_items(
    path: str | Path, *, name: str | None = None, skip_invalid: bool = False
) -> ItemReport:
    """The challenges of the file at `path`; `name` is how messages and ids name the file
    (an upload's original name; default: `path` as given)."""
    shown = name or str(path)
    fmt = _format(path, shown)
    report = ItemReport()
    ids: dict[tuple[str, str], Location] = {}
    for item in _items(Path(path), shown, fmt):
        try:
            if isinstance(item, DataError):
                raise item
            key = (item.title or item.text, item.issuer or "")
            if key in ids:
                first = ids[key].describe() or "an earlier item"
                raise DocumentError(shown, item.where, f"repeats {first} (same name and issuer)")
            ids[key] = item.where
            report.items.append(item)
        except DataError as error:
            if not skip_invalid:
                raise
            report.rejects.append(error)
    if not report.items and not report.rejects:
        raise DocumentError(shown, None, "no challenges found in the file")
    return report


def _format(path: str | Path, shown: str) -> DocumentFormat:
    try:
        return detect(path)
    except DocumentError as error:
        raise DocumentError(shown, error.where, error.reason) from None


def _items(path: Path, shown: str, fmt: DocumentFormat) -> Iterator[ChallengeItem | DataError]:
    if fmt in (DocumentFormat.jsonl, DocumentFormat.csv):
        for line, row in iter_rows(path):
            if isinstance(row, DataError):
                yield DocumentError(shown, Location(row=line), row.reason)
            else:
                yield _from_cells(shown, Location(row=line), _as_cells(row))
    elif fmt is DocumentFormat.xlsx:
        from corpus.documents.xlsx import iter_sheets

        for sheet in iter_sheets(path, fill_merged=True, shown=shown):
            rows = ((Location(sheet=sheet.name, row=n), cells) for n, cells in sheet.rows)
            yield from _table_items(shown, rows, Location(sheet=sheet.name))
    else:
        from corpus.documents.docx import read_docx
        from corpus.documents.pdf import read_pdf

        reader = read_docx if fmt is DocumentFormat.docx else read_pdf
        yield from _document_items(shown, reader(path, shown=shown))


def _table_items(
    shown: str, rows: Iterable[tuple[Location, list]], where: Location, header: Header | None = None
) -> Iterator[ChallengeItem | DataError]:
    for found in read_table(
        shown, rows, _recognise, where=where, expected=EXPECTED, header=header, check=_check
    ):
        if isinstance(found, DataError):
            yield found
        else:
            yield _from_cells(shown, *found)


def _check(header: Header) -> str | None:
    if "title" in header.fields or "text" in header.fields:
        return None
    return f"no text column: the header ({header.describe()}) names no {TEXT_COLUMNS}"


def _document_items(shown: str, content: Content) -> Iterator[ChallengeItem | DataError]:
    """Items from the tables that have a header (a table without one, as wide as the table
    before it, continues it: a table broken over pages); else from the numbered list."""
    yield from content.problems
    tables: list[tuple[Table, Header | None]] = []
    last: Header | None = None
    for table in content.tables:
        found = find_header([cells for _, cells in table.rows], _recognise)
        width = max((len(cells) for _, cells in table.rows), default=0)
        if found is not None:
            last = found[1]
            tables.append((table, None))
        elif last is not None and width == len(last.names):
            tables.append((table, last))
        else:
            last = None
    if tables:
        for table, header in tables:
            yield from _table_items(shown, table.rows, table.where, header)
        return
    items = split_items(content.paragraphs, _recognise)
    if not items:
        yield DocumentError(shown, None, NOTHING_FOUND)
        return
    for item in items:
        yield _checked(
            shown,
            ChallengeItem(
                where=item.where,
                text="\n".join([item.title, *item.body]),
                title=item.title,
                area=item.fields.get("area"),
                issuer=item.fields.get("issuer"),
                deadline=item.fields.get("deadline"),
            ),
        )


def _recognise(name: str) -> str | None:
    return field_for(name, MODEL)


def _as_cells(row: dict) -> dict[str, str]:
    """A JSONL/CSV row as named text cells (JSON values that are not text become text)."""
    return {str(k): v if isinstance(v, str) else str(v) for k, v in row.items() if v is not None}


def _from_cells(shown: str, where: Location, cells: dict[str, str]) -> ChallengeItem | DataError:
    fields: dict[str, list[str]] = {}
    for name, value in cells.items():
        field_name = _recognise(name)
        text = clean_text(value)
        if field_name is not None and text:
            fields.setdefault(field_name, []).append(text)
    title = fields.get("title", [None])[0]
    texts = fields.get("text", [])
    if title is None and not texts:
        return DocumentError(shown, where, "empty text: no name (榜单名称) and no description")
    first = {name: values[0] for name, values in fields.items()}
    item = ChallengeItem(
        where=where,
        text="\n".join([title, *texts] if title else texts),
        title=title,
        area=first.get("area"),
        issuer=first.get("issuer"),
        deadline=first.get("deadline"),
    )
    return _checked(shown, item)


def _checked(shown: str, item: ChallengeItem) -> ChallengeItem | DataError:
    if len(item.text) > MAX_TEXT_CHARS:
        return DocumentError(
            shown,
            item.where,
            f"text longer than {MAX_TEXT_CHARS:,} characters ({len(item.text):,})",
        )
    if item.area is not None and len(item.area) > MAX_AREA_CHARS:
        return DocumentError(shown, item.where, f"area longer than {MAX_AREA_CHARS} characters")
    return item
