"""Errors as JSON `{"error": "...", "detail"?}`: a clear message, never a traceback."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from corpus.errors import JiebangError

log = logging.getLogger("jiebang.api")


class ApiError(JiebangError):
    """A user error with its HTTP status; subclasses fix the status."""

    status_code = 400

    def __init__(self, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.detail = detail


class InvalidInput(ApiError):
    status_code = 422


class NotFound(ApiError):
    status_code = 404


class Conflict(ApiError):
    status_code = 409


class Unauthorized(ApiError):
    status_code = 401


class Forbidden(ApiError):
    status_code = 403


_PATH = re.compile(r"(?<![\w.])/(?:[\w.@+-]+/)*[\w.@+-]+")


def redact_paths(text: str) -> str:
    """`text` with absolute file paths replaced by their last part: the server's layout stays
    private (readiness, job errors)."""
    return _PATH.sub(lambda m: "…/" + m[0].rsplit("/", 1)[-1], text)


class PayloadTooLarge(ApiError):
    status_code = 413


class UnsupportedMediaType(ApiError):
    status_code = 415


class TooManyRequests(ApiError):
    status_code = 429


class NotReady(ApiError):
    status_code = 503


class ErrorBody(BaseModel):
    """Every error response: a one-line message and, for validation errors, the details."""

    error: str
    detail: Any = None


def error_response(status: int, message: str, detail: Any = None) -> JSONResponse:
    body: dict[str, Any] = {"error": message}
    if detail is not None:
        body["detail"] = detail
    return JSONResponse(body, status_code=status)


def _field(location: tuple[Any, ...]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(location[0] if location else "request")


def _validation_message(errors: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    detail = [
        {
            "field": _field(tuple(err.get("loc", ()))),
            "message": str(err.get("msg", "invalid")).removeprefix("Value error, "),
        }
        for err in errors
    ]
    first = detail[0] if detail else {"field": "request", "message": "invalid"}
    more = f" (and {len(detail) - 1} more)" if len(detail) > 1 else ""
    return f"invalid request: {first['field']}: {first['message']}{more}", detail


def install_error_handlers(app: FastAPI) -> None:
    """JiebangError → its 4xx, validation → 422, HTTP errors → JSON, anything else → 500 JSON."""

    @app.exception_handler(JiebangError)
    async def jiebang_error(_request: Request, error: JiebangError) -> JSONResponse:
        status = getattr(error, "status_code", 400)
        return error_response(status, str(error), getattr(error, "detail", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
        message, detail = _validation_message(list(error.errors()))
        return error_response(422, message, detail)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400 and isinstance(error.__cause__, UnicodeDecodeError):
            # FastAPI's "error parsing the body" for bytes that are not UTF-8: a bad body like
            # any other, so the documented 422, not an undocumented 400 (found by fuzzing).
            return error_response(422, "invalid request: body: not valid UTF-8")
        return JSONResponse({"error": str(error.detail)}, error.status_code, headers=error.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "internal server error; the server log has the details")
