"""Reports: the technology roadmap (应用替代 / 应急攻关 / 前瞻部署) over every challenge."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from matcher.patents.roadmap import BATCHES, ChallengeStatus
from service.api.deps import State
from service.api.errors import Conflict, ErrorBody, ErrorCode, NotFound
from service.api.export import download
from service.api.state import ServiceState
from service.db import JobStatus
from service.export.roadmap import RoadmapFormat, render
from service.export.tables import XLSX_MEDIA_TYPE
from service.usecases.reports import patent_counts
from service.usecases.reports import roadmap as build_roadmap

router = APIRouter(tags=["reports"])


class Roadmap(BaseModel):
    """Every challenge's coverage, patent activity, gap and batch."""

    batches: dict[str, int]
    patents_from_job: str | None
    challenges: list[ChallengeStatus]


def _patent_counts(state: ServiceState, job_id: str | None) -> dict[str, int] | None:
    if job_id is None:
        return None
    job = state.db.get_job(job_id)
    if job is None:
        raise NotFound(ErrorCode.job_not_found, f"没有编号为「{job_id}」的任务")
    if job.status != JobStatus.done or not job.result_path:
        raise Conflict(ErrorCode.job_not_finished, "路线图需要一个已完成的专利任务")
    return patent_counts(Path(job.result_path), state.book.all())


@router.get(
    "/roadmap",
    response_model=Roadmap,
    responses={
        200: {
            "content": {
                "text/html": {},
                "text/markdown": {},
                XLSX_MEDIA_TYPE: {},
                "image/png": {},
            },
            "description": "JSON, or the report in the format asked for",
        },
        404: {"model": ErrorBody},
        409: {"model": ErrorBody},
    },
    summary="Technology roadmap: each challenge's coverage × patent activity → its batch",
)
def roadmap(
    state: State,
    format: Annotated[
        RoadmapFormat, Query(description="json, or a report: html, md, xlsx, png")
    ] = RoadmapFormat.json,
    job: Annotated[
        str | None,
        Query(max_length=64, description="A finished patents job whose matches count as activity"),
    ] = None,
) -> Roadmap | Response:
    engine = state.engine
    counts = _patent_counts(state, job)
    with state.lock.reading():
        statuses, rules = build_roadmap(
            engine,
            state.book.all(),
            counts=counts,
            confidences=lambda challenge: state.scores.scores(engine, challenge),
        )
    if format is RoadmapFormat.json:
        tally = {batch: sum(1 for s in statuses if s.batch == batch) for batch in BATCHES}
        return Roadmap(batches=tally, patents_from_job=job, challenges=statuses)
    content = render(statuses, rules, format)
    if format is RoadmapFormat.html:
        return HTMLResponse(content, media_type="text/html; charset=utf-8")
    media_type = {
        RoadmapFormat.md: "text/markdown; charset=utf-8",
        RoadmapFormat.xlsx: XLSX_MEDIA_TYPE,
        RoadmapFormat.png: "image/png",
    }[format]
    return download(content, media_type, f"roadmap.{format.value}")
