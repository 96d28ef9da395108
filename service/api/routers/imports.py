"""Challenge lists as uploads: preview and import a file's challenges, or rank them all.

`POST /challenges/import` reads an uploaded list (.xlsx, .docx, .pdf, .csv, .jsonl): with
`dry_run` it answers what would be stored (the page's preview), without it it stores them all
or none (a write: keyed). `POST /match/file` ranks every challenge of an upload and answers the
shortlist workbook (a query, like `/match/export`). A bad file or item is a 422 whose one-line
message names the file (as uploaded) and the sheet, row, page or item.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, BinaryIO

from fastapi import APIRouter, Depends, File, Form, Response, UploadFile
from pydantic import BaseModel

from corpus.documents.formats import SUFFIXES, supported_suffixes
from corpus.errors import DataError
from corpus.models import Challenge
from service.api.deps import State
from service.api.errors import (
    ErrorBody,
    ErrorCode,
    InvalidInput,
    PayloadTooLarge,
    Responses,
    UnsupportedMediaType,
)
from service.api.export import download
from service.api.limits import megabytes
from service.api.routers.challenges import WRITE_ERRORS
from service.api.security import require_write_key
from service.api.state import ServiceState
from service.export.shortlist import shortlist_xlsx
from service.export.tables import XLSX_MEDIA_TYPE
from service.usecases.imports import ChallengeImport, challenges_from_file, store_challenges
from service.usecases.matching import MatchRequest
from service.usecases.shortlist import rank_challenges

router = APIRouter(tags=["challenges"])

IMPORT_PATH = "/challenges/import"
SHORTLIST_PATH = "/match/file"
MAX_SHORTLIST_CHALLENGES = 200
CHUNK_BYTES = 1 << 20
UPLOAD_ERRORS: Responses = {
    413: {"model": ErrorBody, "description": "The upload is too large."},
    415: {"model": ErrorBody, "description": f"Not one of {supported_suffixes()}."},
    422: {"model": ErrorBody, "description": "A bad file or item (named by sheet/row/page)."},
}
Upload = Annotated[UploadFile, File(description=f"A challenge list: {supported_suffixes()}")]
SkipInvalid = Annotated[
    bool, Form(description="Skip bad items (listed in `skipped`) instead of refusing the file")
]


class ImportOut(BaseModel):
    """What a file held: its challenges (stored unless `dry_run`) and the items skipped."""

    file: str
    stored: bool
    new: int = 0
    replaced: int = 0
    challenges: list[Challenge]
    skipped: list[str]


@router.post(
    IMPORT_PATH,
    response_model=ImportOut,
    dependencies=[Depends(require_write_key)],
    responses={**WRITE_ERRORS, **UPLOAD_ERRORS},
    summary="Preview (dry_run) or import the challenges of an uploaded list",
)
def import_challenges(
    state: State,
    response: Response,
    file: Upload,
    dry_run: Annotated[bool, Form(description="Answer what would be stored; store none")] = False,
    skip_invalid: SkipInvalid = False,
) -> ImportOut:
    imported = _read_upload(state, file, skip_invalid)
    new = replaced = 0
    if not dry_run:
        new, replaced = store_challenges(state.db, imported.challenges)
        response.status_code = 201
    return ImportOut(
        file=imported.file_name,
        stored=not dry_run,
        new=new,
        replaced=replaced,
        challenges=imported.challenges,
        skipped=[str(error) for error in imported.rejects],
    )


@router.post(
    SHORTLIST_PATH,
    response_class=Response,
    responses={
        200: {"content": {XLSX_MEDIA_TYPE: {}}, "description": "The shortlist workbook."},
        **UPLOAD_ERRORS,
    },
    summary="Rank every challenge of an uploaded list: the shortlist workbook",
)
def shortlist(
    state: State,
    file: Upload,
    top: Annotated[int, Form(ge=1, le=50, description="Candidates per challenge")] = 10,
    skip_invalid: SkipInvalid = False,
) -> Response:
    imported = _read_upload(state, file, skip_invalid)
    if len(imported.challenges) > MAX_SHORTLIST_CHALLENGES:
        raise InvalidInput(
            ErrorCode.invalid_upload,
            f"{imported.file_name} 有 {len(imported.challenges)} 个挑战，一次最多 "
            f"{MAX_SHORTLIST_CHALLENGES} 个（更多请用 jiebang match --file）",
        )
    engine = state.engine
    with state.lock.reading():
        ranked = rank_challenges(engine, imported.challenges, MatchRequest(top=top))
    content = shortlist_xlsx(ranked, file_name=imported.file_name, rejects=imported.rejects)
    return download(content, XLSX_MEDIA_TYPE, f"{Path(imported.file_name).stem}-shortlist.xlsx")


def _read_upload(state: ServiceState, file: UploadFile, skip_invalid: bool) -> ChallengeImport:
    name = Path(file.filename or "").name or "upload"
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise UnsupportedMediaType(
            ErrorCode.unsupported_media_type,
            f"{name}：不支持的文件类型「{suffix or '无扩展名'}」，请上传 {supported_suffixes()}",
        )
    with _saved(file.file, suffix, state.settings.max_upload_bytes) as path:
        try:
            return challenges_from_file(
                path, state.catalogue, state.infer_area, name=name, skip_invalid=skip_invalid
            )
        except DataError as error:  # the file and the place named, as the CLI names them
            raise InvalidInput(ErrorCode.invalid_upload, f"无法导入：{error}") from None


@contextmanager
def _saved(upload: BinaryIO, suffix: str, limit: int) -> Iterator[Path]:
    """The upload in a private temporary file (readers need a path), removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="jiebang-upload-"))
    try:
        path = folder / f"upload{suffix}"
        written = 0
        with path.open("wb") as out:
            while chunk := upload.read(CHUNK_BYTES):
                written += len(chunk)
                if written > limit:
                    raise PayloadTooLarge(
                        ErrorCode.payload_too_large, f"上传文件超过 {megabytes(limit)} 上限"
                    )
                out.write(chunk)
        if not written:
            raise InvalidInput(ErrorCode.invalid_upload, "上传的文件是空的")
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)
