"""Bulk jobs: upload patents to match against every challenge; poll progress; fetch the output."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel

from service.api.deps import State
from service.api.errors import Conflict, ErrorBody, ErrorCode, NotFound, redact_paths
from service.api.routers.challenges import WRITE_ERRORS
from service.api.schemas import JobOut
from service.api.security import require_write_key
from service.db import JobRow, JobStatus
from service.export.landscape import SUMMARY_COLUMNS, summary_rows
from service.export.tables import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE
from service.usecases.reports import job_landscape

router = APIRouter(tags=["jobs"])

JobId = Annotated[str, PathParam(min_length=1, max_length=64, description="Job id")]
# Keyed by str: a JobRow's status is the column's str (JobStatus is a StrEnum, equal to it).
STATUS_ZH: dict[str, str] = {
    JobStatus.queued: "排队中",
    JobStatus.running: "运行中",
    JobStatus.done: "已完成",
    JobStatus.failed: "失败",
    JobStatus.cancelled: "取消",
}
MEDIA_TYPES = {"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}


class JobOutputFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"


class ResultPart(StrEnum):
    result = "result"
    rejects = "rejects"


def _job_out(request: Request, job: JobRow) -> JobOut:
    done = job.status == JobStatus.done
    return JobOut(
        id=job.id,
        kind=job.kind,
        status=job.status,
        progress=job.progress,
        total=job.total,
        totals=job.totals,
        error=redact_paths(job.error) if job.error else None,
        created_at=job.created_at,
        updated_at=job.updated_at,
        result_url=request.url_for("job_result", job_id=job.id).path if done else None,
    )


def _job(state: State, job_id: str) -> JobRow:
    job = state.db.get_job(job_id)
    if job is None:
        raise NotFound(ErrorCode.job_not_found, f"没有编号为「{job_id}」的任务")
    return job


@router.post(
    "/patents/match",
    response_model=JobOut,
    status_code=202,
    dependencies=[Depends(require_write_key)],
    responses={
        **WRITE_ERRORS,
        413: {"model": ErrorBody, "description": "The upload is too large."},
        415: {"model": ErrorBody, "description": "Not a .jsonl, .csv or .xlsx file."},
        422: {"model": ErrorBody, "description": "Empty, or no readable patent rows."},
        429: {"model": ErrorBody, "description": "This key's job or upload quota is used up."},
    },
    summary="Upload patents (.jsonl, .csv or .xlsx) to match against every challenge, as a job",
)
def start_patent_match(
    request: Request,
    response: Response,
    state: State,
    file: Annotated[UploadFile, File(description="Patents: .jsonl, .csv (UTF-8) or .xlsx")],
    top: Annotated[int, Form(ge=1, le=15, description="Areas per patent")] = 1,
    min_confidence: Annotated[
        float | None,
        Form(ge=0, le=1, description="P(addresses the area) needed; default: the fitted threshold"),
    ] = None,
    format: Annotated[JobOutputFormat, Form(description="Output format")] = JobOutputFormat.jsonl,
) -> JobOut:
    state.require_ready()
    job = request.app.state.jobs.create_patent_match(
        file.file,
        file.filename or "",
        {"top": top, "min_confidence": min_confidence, "format": format.value},
        key=request.headers.get("X-API-Key"),
    )
    response.headers["Location"] = request.url_for("get_job", job_id=job.id).path
    return _job_out(request, job)


@router.get(
    "/jobs/{job_id}",
    response_model=JobOut,
    responses={404: {"model": ErrorBody}},
    summary="A job's status and progress",
)
def get_job(request: Request, state: State, job_id: JobId) -> JobOut:
    return _job_out(request, _job(state, job_id))


@router.get(
    "/jobs/{job_id}/result",
    response_class=FileResponse,
    responses={
        200: {"content": {t: {} for t in MEDIA_TYPES.values()}, "description": "The output."},
        404: {"model": ErrorBody},
        409: {"model": ErrorBody, "description": "The job has not finished."},
    },
    summary="A finished job's output (or its rejected rows, with part=rejects)",
)
def job_result(
    request: Request,
    state: State,
    job_id: JobId,
    part: Annotated[ResultPart, Query()] = ResultPart.result,
) -> FileResponse:
    job = _job(state, job_id)
    if job.status in (JobStatus.failed, JobStatus.cancelled):
        raise Conflict(
            ErrorCode.job_failed,
            f"任务{STATUS_ZH.get(job.status, job.status)}：{redact_paths(job.error or '没有输出')}",
        )
    if job.status != JobStatus.done:
        raise Conflict(
            ErrorCode.job_not_finished,
            f"任务尚未完成（{STATUS_ZH.get(job.status, job.status)}）："
            f"已处理 {job.progress} / {job.total} 行",
        )
    fmt = job.params["format"]
    if part is ResultPart.rejects:
        path, media_type, name = (
            request.app.state.jobs.rejects_file(job),
            MEDIA_TYPES["jsonl"],
            (f"{job_id}.rejects.jsonl"),
        )
    else:
        path, media_type, name = Path(job.result_path or ""), MEDIA_TYPES[fmt], f"{job_id}.{fmt}"
    if not path.is_file():
        raise NotFound(ErrorCode.file_gone, f"任务「{job_id}」的输出文件已不在服务器上")
    return FileResponse(path, media_type=media_type, filename=name)


@router.delete(
    "/jobs/{job_id}",
    status_code=204,
    dependencies=[Depends(require_write_key)],
    responses={**WRITE_ERRORS, 404: {"model": ErrorBody}, 409: {"model": ErrorBody}},
    summary="Cancel an unfinished job (it stops after its current window; its files go)",
)
def cancel_job(request: Request, state: State, job_id: JobId) -> Response:
    job = _job(state, job_id)
    if not request.app.state.jobs.cancel(job_id):
        raise Conflict(
            ErrorCode.job_not_cancellable,
            f"任务已{STATUS_ZH.get(job.status, job.status)}：只能取消排队中或运行中的任务",
        )
    return Response(status_code=204)


LANDSCAPE_FILES = {
    "areas.png": "image/png",
    "challenges.png": "image/png",
    "landscape.xlsx": XLSX_MEDIA_TYPE,
    "challenges.csv": CSV_MEDIA_TYPE,
    "areas.csv": CSV_MEDIA_TYPE,
    "applicants.csv": CSV_MEDIA_TYPE,
}
TOP_CHALLENGES = 20


class LandscapeOut(BaseModel):
    """专利导航 of a finished job: per area and per challenge (most patents first), and the
    files (charts, workbook, CSV tables) by name → URL."""

    job: str
    patents: int
    unmatched: int
    areas: list[dict[str, Any]]
    challenges: list[dict[str, Any]]
    files: dict[str, str]


def _finished(state: State, job_id: str) -> JobRow:
    job = _job(state, job_id)
    if job.status in (JobStatus.failed, JobStatus.cancelled):
        raise Conflict(ErrorCode.job_failed, f"任务{STATUS_ZH[job.status]}，没有专利导航")
    if job.status != JobStatus.done or not job.result_path:
        raise Conflict(
            ErrorCode.job_not_finished,
            f"任务尚未完成（{STATUS_ZH.get(job.status, job.status)}）："
            f"已处理 {job.progress} / {job.total} 行",
        )
    return job


def _landscape(request: Request, state: State, job: JobRow):
    result = Path(job.result_path or "")
    if not result.is_file():
        raise NotFound(ErrorCode.file_gone, f"任务「{job.id}」的输出文件已不在服务器上")
    folder = request.app.state.jobs.root / job.id / "landscape"
    return job_landscape(result, state.book.all(), folder)


@router.get(
    "/jobs/{job_id}/landscape",
    response_model=LandscapeOut,
    responses={404: {"model": ErrorBody}, 409: {"model": ErrorBody}},
    summary="专利导航 of a finished job: patents per area and challenge, applicants, charts",
)
def job_landscape_summary(request: Request, state: State, job_id: JobId) -> LandscapeOut:
    job = _finished(state, job_id)
    landscape, paths = _landscape(request, state, job)

    def rows(table) -> list[dict[str, Any]]:
        return [
            dict(zip(SUMMARY_COLUMNS, row, strict=True)) for row in summary_rows(table, landscape)
        ]

    challenges = [row for row in rows(landscape.challenges) if row["patents"]][:TOP_CHALLENGES]
    return LandscapeOut(
        job=job.id,
        patents=landscape.patents,
        unmatched=landscape.unmatched,
        areas=sorted(rows(landscape.areas), key=lambda row: row["area_no"] or 99),
        challenges=challenges,
        files={
            p.name: request.url_for("job_landscape_file", job_id=job.id, name=p.name).path
            for p in paths
            if p.name in LANDSCAPE_FILES
        },
    )


@router.get(
    "/jobs/{job_id}/landscape/{name}",
    response_class=FileResponse,
    responses={
        200: {"content": {t: {} for t in set(LANDSCAPE_FILES.values())}},
        404: {"model": ErrorBody},
        409: {"model": ErrorBody},
    },
    summary="One file of a job's 专利导航: areas.png, challenges.png, landscape.xlsx or a CSV",
)
def job_landscape_file(
    request: Request,
    state: State,
    job_id: JobId,
    name: Annotated[str, PathParam(max_length=40, description=", ".join(LANDSCAPE_FILES))],
) -> FileResponse:
    if name not in LANDSCAPE_FILES:
        raise NotFound(
            ErrorCode.file_gone, f"专利导航没有文件「{name}」：可选 {'、'.join(LANDSCAPE_FILES)}"
        )
    job = _finished(state, job_id)
    _, paths = _landscape(request, state, job)
    path = next(p for p in paths if p.name == name)
    return FileResponse(path, media_type=LANDSCAPE_FILES[name], filename=f"{job_id}-{name}")
