"""PDFs with a text layer, with pdfplumber: ruled tables and the paragraphs around them.

- Tables are pdfplumber's (drawn cell borders). A merged cell is None in every grid position
  but its first: in a table's first row it takes the value on its left (merged across), below
  that the value above (merged down). A cell's wrapped lines are joined back (`join_lines`).
- Text outside tables comes as lines, joined into paragraphs: a line starts a new paragraph when
  the line before it stops short of its page's right edge (by more than one and a half
  characters), after a gap of more than a line on the same page, or when it starts with a list
  number (`numbered.marker`) or a short label ("发榜单位："); a paragraph runs on over a page
  break. Lines that are only a page
  number ("- 3 -", "第 3 页") are left out.
- A page with images but no characters has no text layer (a scan): reported in `problems`;
  when no page has text at all, the whole file is refused, since OCR is not attempted.
- A password-protected or corrupt file is a `DocumentError`.
"""

from __future__ import annotations

import re
from pathlib import Path

from corpus.documents.content import Content, Paragraph, Table, clean_text
from corpus.documents.errors import DocumentError, Location
from corpus.documents.numbered import marker

SCANNED = (
    "no text layer (a scanned image?); jiebang does not run OCR: export the text from the "
    "source document, or give the .docx/.xlsx"
)
_WORDY = re.compile(r"[A-Za-z0-9]")
_LABEL = re.compile(r"[\u4e00-\u9fff]{2,8}[：:]")
# A line that is only a page number: "3", "- 3 -", "— 3 —", "第 3 页", "3/12", "第3页 共12页".
_PAGE_NUMBER = re.compile(r"[-—–\s]*\d+[-—–\s]*|第\s*\d+\s*页(\s*共\s*\d+\s*页)?|\d+\s*/\s*\d+")


def read_pdf(path: str | Path, *, shown: str | None = None) -> Content:
    """The tables and paragraphs of the PDF at `path`; errors name the file as `shown`."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.psparser import PSException
    from pdfplumber.utils.exceptions import PdfminerException

    shown = shown or str(path)
    content = Content()
    lines: list[dict] = []
    try:
        with pdfplumber.open(str(path)) as pdf:
            for number, page in enumerate(pdf.pages, start=1):
                lines += _read_page(page, number, content, shown)
    except (PdfminerException, PSException) as error:
        cause = error.args[0] if error.args else error
        if isinstance(cause, PDFPasswordIncorrect | PDFEncryptionError):
            reason = "password-protected (encrypted) PDF; save an unprotected copy"
        else:
            reason = f"not a readable PDF (corrupt?): {type(cause).__name__}"
        raise DocumentError(shown, None, reason) from None
    for text, page_number in _paragraphs(lines):
        content.paragraphs.append(Paragraph(text, Location(page=page_number)))
    if not content.tables and not content.paragraphs:
        raise DocumentError(shown, Location(page=1), SCANNED)
    return content


def _read_page(page, number: int, content: Content, shown: str) -> list[dict]:
    """Add the page's tables to `content`; return its text lines outside them, each with its
    page and the page's right text edge, page numbers left out."""
    if not page.chars:
        if page.images:
            content.problems.append(DocumentError(shown, Location(page=number), SCANNED))
        return []
    found = page.find_tables()
    for table in found:
        where = Location(page=number, table=len(content.tables) + 1)
        rows = _filled(table.extract())
        content.tables.append(
            Table(
                where,
                [
                    (Location(page=number, table=where.table, row=row), cells)
                    for row, cells in enumerate(rows, start=1)
                ],
            )
        )
    boxes = [table.bbox for table in found]
    outside = page.filter(lambda obj: not any(_inside(obj, box) for box in boxes))
    lines = [
        line
        for line in outside.extract_text_lines(return_chars=True)
        if line["text"].strip() and not _PAGE_NUMBER.fullmatch(line["text"].strip())
    ]
    right = max((line["x1"] for line in lines), default=0.0)
    return [{**line, "page": number, "right": right} for line in lines]


def _inside(obj: dict, box: tuple[float, float, float, float]) -> bool:
    x0, top, x1, bottom = box
    middle_x = (obj.get("x0", 0) + obj.get("x1", 0)) / 2
    middle_y = (obj.get("top", 0) + obj.get("bottom", 0)) / 2
    return x0 <= middle_x <= x1 and top <= middle_y <= bottom


def _filled(rows: list[list[str | None]]) -> list[list[str | None]]:
    """Merged-away cells (None) take the value on the left in the first row, above below it;
    wrapped lines inside a cell are joined."""
    out: list[list[str | None]] = []
    for index, row in enumerate(rows):
        cells: list[str | None] = []
        for column, cell in enumerate(row):
            if cell is None:
                if index == 0 or column >= len(out[-1]):
                    cell = cells[-1] if cells else None
                else:
                    cell = out[-1][column]
            else:
                cell = clean_text(join_lines(cell.split("\n")))
            cells.append(cell)
        out.append(cells)
    return out


def _paragraphs(lines: list[dict]) -> list[tuple[str, int]]:
    """(text, page it starts on) of each paragraph; one may run on over a page break."""
    paragraphs: list[tuple[list[str], int]] = []
    previous: dict | None = None
    for line in lines:
        text = line["text"].strip()
        size = line["chars"][0]["size"] if line.get("chars") else 10.0
        same_page = previous is not None and previous["page"] == line["page"]
        new = (
            previous is None
            or previous["x1"] < previous["right"] - 1.5 * size
            or (same_page and line["top"] - previous["bottom"] > size)
            or _starts_paragraph(text)
        )
        if new:
            paragraphs.append(([text], line["page"]))
        else:
            paragraphs[-1][0].append(text)
        previous = line
    return [(clean_text(join_lines(texts)), page) for texts, page in paragraphs]


def _starts_paragraph(text: str) -> bool:
    """A list number ("3." but not "3.5倍…") or a short label ("发榜单位：") opens a paragraph,
    whatever the line before: a wrapped line that fills the width says nothing."""
    found = marker(text)
    return (found is not None and not found.ambiguous) or _LABEL.match(text) is not None


def join_lines(lines: list[str]) -> str:
    """Lines a layout wrapped, joined back: directly between Chinese characters, with a space
    between two Latin letters or digits (the space the wrap took)."""
    text = ""
    for line in (line.strip() for line in lines):
        if text and line and _WORDY.match(text[-1]) and _WORDY.match(line[0]):
            text += " "
        text += line
    return text
