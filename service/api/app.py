"""`create_app(settings)`: the FastAPI application, assembled from one router per subsystem.

The model and index load once, in a background thread started by the lifespan; `/readyz` turns
200 when they are in, and engine requests answer 503 until then.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from service.api.errors import install_error_handlers
from service.api.jobs import JobRunner
from service.api.limits import BodySizeLimit
from service.api.routers import (
    candidates,
    challenges,
    health,
    imports,
    judgments,
    organisations,
    reports,
    teams,
    web,
)
from service.api.routers import jobs as jobs_router
from service.api.routers.web import WEB_DIR
from service.api.security import require_read_key
from service.api.state import ServiceState
from service.db import Database
from service.settings import Settings

log = logging.getLogger("jiebang.api")

UPLOAD_PATHS = ("/patents/match", imports.IMPORT_PATH, imports.SHORTLIST_PATH)
DESCRIPTION = """
揭榜 (jiebang) matches technical challenges to the organisations able to solve them.

Write endpoints (POST/PUT/DELETE that change state) need the `X-API-Key` header; read endpoints
need it only when the server runs with `JIEBANG_READ_REQUIRES_KEY=true`.

Errors are JSON `{"error": {"code", "message", "detail"?}}`: `code` is stable and machine-readable
(`ErrorCode`), `message` is one line of Chinese for people, naming the limit or what is wrong;
validation errors list each bad field in `detail` (`field`, pydantic's error type as `code`,
`message`, and `limit` where one applies). Texts are refused beyond their limit (`GET /limits`),
never cut.
"""


def create_app(settings: Settings) -> FastAPI:
    """The service for `settings`; the database schema is upgraded before the app is returned."""
    settings.home.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url)
    db.upgrade()
    state = ServiceState(settings, db)
    jobs = JobRunner(state)

    def load() -> None:
        state.load()
        if state.ready:
            jobs.start()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        threading.Thread(target=load, name="jiebang-load", daemon=True).start()
        try:
            yield
        finally:
            jobs.shutdown()
            db.dispose()

    # Swagger UI and ReDoc come from the fastapi-offline package, not a CDN: /docs works on a
    # machine without internet.
    app = FastAPIOffline(
        title="jiebang 揭榜",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        swagger_ui_parameters={"validatorUrl": None},
    )
    app.state.settings = settings
    app.state.jiebang = state
    app.state.jobs = jobs
    install_error_handlers(app)
    app.add_middleware(
        BodySizeLimit,
        body_bytes=settings.max_body_bytes,
        upload_bytes=settings.max_upload_bytes,
        upload_paths=UPLOAD_PATHS,
    )

    read_dependencies = [Depends(require_read_key)] if settings.read_requires_key else []
    app.include_router(health.router)
    for router in (
        imports.router,  # before challenges: /challenges/import is not a challenge id
        challenges.router,
        candidates.router,
        judgments.router,
        teams.router,
        organisations.router,
        jobs_router.router,
        reports.router,
    ):
        app.include_router(router, dependencies=read_dependencies)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")
    app.openapi = lambda: _openapi_with_our_errors(app)  # type: ignore[method-assign]
    return app


def _openapi_with_our_errors(app: FastAPI) -> dict:
    """The schema, with 422 responses described as they are sent: `ErrorBody`, not FastAPI's
    default `HTTPValidationError` (our handler rewrites validation errors)."""
    if app.openapi_schema is None:
        from fastapi.openapi.utils import get_openapi

        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        # ErrorBody (with ErrorInfo, ErrorCode) is in the components: routes name it.
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                invalid = operation.get("responses", {}).get("422")
                if invalid is not None:
                    invalid["content"] = {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
                    }
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        app.openapi_schema = schema
    return app.openapi_schema


def app_from_environment() -> FastAPI:
    """Factory for `uvicorn --factory service.api.app:app_from_environment`."""
    return create_app(Settings())
