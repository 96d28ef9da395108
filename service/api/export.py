"""A ranking as a download: the bytes come from `service.export.ranking`."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import Response

from matcher.results import MatchResult
from service.api.schemas import ExportFormat
from service.export.ranking import ranking_csv, ranking_xlsx
from service.export.tables import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE

MEDIA_TYPES = {ExportFormat.xlsx: XLSX_MEDIA_TYPE, ExportFormat.csv: CSV_MEDIA_TYPE}


def export_response(result: MatchResult, fmt: ExportFormat, stem: str) -> Response:
    """The ranking as a downloadable file named `<stem>.<format>`."""
    content = ranking_xlsx(result) if fmt is ExportFormat.xlsx else ranking_csv(result)
    return download(content, MEDIA_TYPES[fmt], f"{stem}.{fmt.value}")


def download(content: bytes, media_type: str, filename: str) -> Response:
    """A file response; the ASCII fallback name keeps old clients working."""
    suffix = filename.rsplit(".", 1)[-1]
    disposition = f"attachment; filename=\"jiebang.{suffix}\"; filename*=UTF-8''{quote(filename)}"
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})
