"""Which kind of file a path holds: by its suffix, checked against its first bytes.

The suffix says what the user meant; the first bytes catch what it really is. A workbook or Word
file saved with a password is not a zip but an OLE container (the same as a legacy .xls/.doc), a
renamed file is caught before a parser gives a confusing message, and a PDF must start `%PDF`.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from corpus.documents.errors import DocumentError


class DocumentFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    xlsx = "xlsx"
    docx = "docx"
    pdf = "pdf"


SUFFIXES: dict[str, DocumentFormat] = {
    ".jsonl": DocumentFormat.jsonl,
    ".json-lines": DocumentFormat.jsonl,
    ".ndjson": DocumentFormat.jsonl,
    ".json": DocumentFormat.jsonl,
    ".csv": DocumentFormat.csv,
    ".tsv": DocumentFormat.csv,
    ".xlsx": DocumentFormat.xlsx,
    ".xlsm": DocumentFormat.xlsx,
    ".docx": DocumentFormat.docx,
    ".pdf": DocumentFormat.pdf,
}
LEGACY = {
    ".xls": "save it as .xlsx (Excel 2007 or later) first",
    ".et": "save it as .xlsx first",
    ".doc": "save it as .docx (Word 2007 or later) first",
    ".wps": "save it as .docx first",
}
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
PDF_MAGIC = b"%PDF"


def supported_suffixes() -> str:
    """The suffixes read, for messages: ".jsonl, .csv, …"."""
    return ", ".join(SUFFIXES)


def detect(path: str | Path) -> DocumentFormat:
    """The format of `path`; a `DocumentError` for an unknown suffix, an unreadable file, or
    bytes that do not fit the suffix (password-protected, corrupt or renamed)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in LEGACY:
        raise DocumentError(path, None, f"'{suffix}' is an old binary format; {LEGACY[suffix]}")
    fmt = SUFFIXES.get(suffix)
    if fmt is None:
        shown = suffix or "no suffix"
        raise DocumentError(
            path, None, f"unsupported file type ({shown}); use {supported_suffixes()}"
        )
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as error:
        raise DocumentError(path, None, f"cannot read file: {error.strerror or error}") from None
    if fmt in (DocumentFormat.xlsx, DocumentFormat.docx):
        if head.startswith(OLE_MAGIC):
            raise DocumentError(
                path,
                None,
                "password-protected (encrypted) or an old binary file saved as "
                f"{suffix}; remove the password and save it as {suffix}",
            )
        if not head.startswith(ZIP_MAGIC):
            raise DocumentError(path, None, f"not a valid {suffix} file (corrupt or renamed)")
    if fmt is DocumentFormat.pdf and not head.startswith(PDF_MAGIC):
        raise DocumentError(path, None, "not a valid PDF (corrupt or renamed)")
    return fmt
