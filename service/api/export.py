"""Render a ranking as XLSX (openpyxl) or CSV (UTF-8 with BOM, so Excel reads the Chinese)."""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from corpus.models import OrgKind
from matcher.results import MatchResult
from matcher.spreadsheet import safe_cell
from service.api.schemas import ExportFormat

HEADER = ["排名", "机构编号", "机构名称", "类型", "地区", "得分", "置信度", "主要证据"]
MEDIA_TYPES = {
    ExportFormat.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.csv: "text/csv; charset=utf-8",
}


def _kind_label(kind: str) -> str:
    try:
        return OrgKind(kind).label_zh
    except ValueError:
        return kind


def ranking_rows(result: MatchResult) -> list[list[object]]:
    """One row per candidate, in rank order, with its best evidence passage."""
    rows: list[list[object]] = []
    for rank, candidate in enumerate(result.candidates, start=1):
        evidence = candidate.evidence[0].text if candidate.evidence else ""
        rows.append(
            [
                rank,
                safe_cell(candidate.org_id),
                safe_cell(candidate.name),
                _kind_label(candidate.kind),
                safe_cell(candidate.region),
                round(candidate.score, 4),
                round(candidate.confidence, 4),
                safe_cell(evidence),
            ]
        )
    return rows


def to_xlsx(result: MatchResult) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "候选机构"
    sheet.append(["查询", safe_cell(result.query)])
    sheet.append([])
    sheet.append(HEADER)
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for row in ranking_rows(result):
        sheet.append(row)
    for column, width in zip("ABCDEFGH", (6, 16, 30, 12, 14, 9, 9, 80), strict=True):
        sheet.column_dimensions[column].width = width
    for cell in sheet["H"]:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_csv(result: MatchResult) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(ranking_rows(result))
    return buffer.getvalue().encode("utf-8-sig")


def export_response(result: MatchResult, fmt: ExportFormat, stem: str) -> Response:
    """The ranking as a downloadable file named `<stem>.<format>`."""
    content = to_xlsx(result) if fmt is ExportFormat.xlsx else to_csv(result)
    filename = f"{stem}.{fmt.value}"
    disposition = (
        f"attachment; filename=\"jiebang.{fmt.value}\"; filename*=UTF-8''{quote(filename)}"
    )
    return Response(
        content, media_type=MEDIA_TYPES[fmt], headers={"Content-Disposition": disposition}
    )
