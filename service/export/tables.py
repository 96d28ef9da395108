"""CSV and XLSX from rows, every cell through `cells.safe_cell`."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from service.export.cells import safe_row

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


@dataclass(frozen=True)
class Sheet:
    """A named table: optional lines above the header, the header, the rows."""

    name: str
    header: Sequence[object]
    rows: Iterable[Sequence[object]]
    preamble: Sequence[Sequence[object]] = ()
    widths: Sequence[int] = ()


def csv_text(header: Sequence[object], rows: Iterable[Sequence[object]]) -> str:
    """CSV text, header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(safe_row(header))
    writer.writerows(safe_row(row) for row in rows)
    return buffer.getvalue()


def csv_bytes(header: Sequence[object], rows: Iterable[Sequence[object]]) -> bytes:
    """CSV as UTF-8 with a BOM, so Excel opens the Chinese correctly."""
    return csv_text(header, rows).encode("utf-8-sig")


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    """A workbook with one worksheet per `Sheet`; the header row is bold."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    for spec in sheets:
        sheet = book.create_sheet(spec.name)
        for line in spec.preamble:
            sheet.append(safe_row(line))
        sheet.append(safe_row(spec.header))
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        for row in spec.rows:
            sheet.append(safe_row(row))
        for column, width in enumerate(spec.widths, start=1):
            sheet.column_dimensions[get_column_letter(column)].width = width
            if width >= 40:
                for cell in sheet[get_column_letter(column)]:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
