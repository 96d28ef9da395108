"""Word files (.docx) with python-docx: the body's tables and paragraphs, in document order.

Merged cells read as python-docx gives them: a cell merged across columns or down rows repeats
its text in every grid position it covers (so a merged 领域 cell names every row it spans). A
paragraph numbered by Word's own list styles ("List Number", or numbering in its properties)
carries `list_item`, since its number is not part of its text.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from corpus.documents.content import Content, Paragraph, Table, clean_text
from corpus.documents.errors import DocumentError, Location


def read_docx(path: str | Path, *, shown: str | None = None) -> Content:
    """The tables and paragraphs of the .docx at `path`; errors name the file as `shown`."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    shown = shown or str(path)
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as error:
        # The type, not the message: that holds the path the file was read from.
        reason = f"not a readable .docx file (corrupt?): {type(error).__name__}"
        raise DocumentError(shown, None, reason) from None
    content = Content()
    for block in document.iter_inner_content():
        if isinstance(block, docx.table.Table):
            where = Location(table=len(content.tables) + 1)
            rows: list[tuple[Location, list[str | None]]] = [
                (Location(table=where.table, row=number), [clean_text(c.text) for c in row.cells])
                for number, row in enumerate(block.rows, start=1)
            ]
            content.tables.append(Table(where, rows))
        else:
            text = clean_text(block.text)
            if text:
                content.paragraphs.append(Paragraph(text, Location(), _numbered_by_word(block)))
    return content


def _numbered_by_word(paragraph) -> bool:
    style = paragraph.style.name if paragraph.style is not None else ""
    if style.startswith("List Bullet"):
        return False
    properties = paragraph._p.pPr
    has_numbering = properties is not None and properties.numPr is not None
    return style.startswith("List Number") or has_numbering
