"""Reports: the technology roadmap (应用替代 / 应急攻关 / 前瞻部署) over every challenge."""

from __future__ import annotations

import tempfile
import threading
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from matcher.patents.landscape import build_landscape, read_matches
from matcher.patents.roadmap import BATCHES, ChallengeStatus, assess, load_rules, write_report
from service.api.deps import State
from service.api.errors import Conflict, ErrorBody, NotFound
from service.api.export import MEDIA_TYPES, ExportFormat
from service.api.state import ServiceState
from service.db import JobStatus

router = APIRouter(tags=["reports"])

# matplotlib's pyplot (the heatmap) is not thread-safe: one report renders at a time.
_RENDER_LOCK = threading.Lock()


class RoadmapFormat(StrEnum):
    json = "json"
    html = "html"
    md = "md"
    xlsx = "xlsx"


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
        raise NotFound(f"unknown job id '{job_id}'")
    if job.status != JobStatus.done or not job.result_path:
        raise Conflict(f"job '{job_id}' is {job.status}; the roadmap needs a finished job")
    tallies = build_landscape(read_matches(job.result_path), state.all_challenges()).challenges
    return {key: tally.patents for key, tally in tallies.items()}


@router.get(
    "/roadmap",
    response_model=Roadmap,
    responses={
        200: {
            "content": {
                "text/html": {},
                "text/markdown": {},
                MEDIA_TYPES[ExportFormat.xlsx]: {},
            },
            "description": "The roadmap as JSON, or as an HTML, Markdown or XLSX report.",
        },
        404: {"model": ErrorBody},
        409: {"model": ErrorBody},
    },
    summary="Technology roadmap: each challenge's coverage × patent activity → its batch",
)
def roadmap(
    state: State,
    format: Annotated[RoadmapFormat, Query(description="json, html, md or xlsx")] = (
        RoadmapFormat.json
    ),
    job: Annotated[
        str | None,
        Query(max_length=64, description="A finished patents job whose matches count as activity"),
    ] = None,
) -> Roadmap | Response:
    engine = state.engine
    rules = load_rules(None, capable=engine.capable_confidence)
    counts = _patent_counts(state, job)
    with state.lock.reading():
        statuses = assess(
            state.all_challenges(),
            rules,
            score_organisations=engine.score_organisations,
            org_names={org_id: org.name for org_id, org in engine.organisations.items()},
            patent_counts=counts,
        )
    if format is RoadmapFormat.json:
        tally = {batch: sum(1 for s in statuses if s.batch == batch) for batch in BATCHES}
        return Roadmap(batches=tally, patents_from_job=job, challenges=statuses)
    with tempfile.TemporaryDirectory() as folder, _RENDER_LOCK:
        write_report(statuses, rules, folder)
        content = (Path(folder) / f"roadmap.{format.value}").read_bytes()
    if format is RoadmapFormat.html:
        return HTMLResponse(content, media_type="text/html; charset=utf-8")
    media_type = {
        RoadmapFormat.md: "text/markdown; charset=utf-8",
        RoadmapFormat.xlsx: MEDIA_TYPES[ExportFormat.xlsx],
    }[format]
    disposition = f'attachment; filename="roadmap.{format.value}"'
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})
