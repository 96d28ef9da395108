"""Liveness (`/healthz`: the process answers), readiness (`/readyz`: it can match) and the
limits requests must stay within (`/limits`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from service.api.deps import State
from service.api.errors import redact_paths
from service.api.schemas import Health, Limits, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="The process is alive")
def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="The model and index are loaded",
    responses={503: {"model": Readiness, "description": "Still loading, or loading failed."}},
)
def readyz(state: State) -> Readiness | JSONResponse:
    # No lock: readiness must answer while a long read and a queued write hold the engine.
    if not state.ready:
        detail = redact_paths(state.load_error or "loading the model and index")
        body = Readiness(ready=False, detail=detail)
        return JSONResponse(body.model_dump(mode="json"), status_code=503)
    return Readiness(
        ready=True,
        detail="ok",
        organisations=len(state.engine.organisations),
        challenges=len(state.all_challenges()),
        model=state.settings.model,
    )


@router.get("/limits", response_model=Limits, summary="The largest text, body and upload accepted")
def limits(request: Request) -> Limits:
    settings = request.app.state.settings
    return Limits(body_bytes=settings.max_body_bytes, upload_bytes=settings.max_upload_bytes)
