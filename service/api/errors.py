"""Errors as JSON `{"error": {"code", "message", "detail"?}}`: never a traceback.

`code` is for programs (stable, one of `ErrorCode`); `message` is one line of Chinese for the
people who use the page, naming the limit or the thing that is wrong; `detail` (validation
errors) lists each bad field with its own code and message.
"""

from __future__ import annotations

import logging
import re
from enum import StrEnum
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from corpus.errors import JiebangError

log = logging.getLogger("jiebang.api")


class ErrorCode(StrEnum):
    """Every `error.code` the API sends."""

    invalid_input = "invalid_input"
    invalid_upload = "invalid_upload"
    bad_request = "bad_request"
    challenge_not_found = "challenge_not_found"
    organisation_not_found = "organisation_not_found"
    job_not_found = "job_not_found"
    file_gone = "file_gone"
    route_not_found = "route_not_found"
    method_not_allowed = "method_not_allowed"
    challenge_id_taken = "challenge_id_taken"
    builtin_challenge = "builtin_challenge"
    organisation_exists = "organisation_exists"
    job_not_finished = "job_not_finished"
    job_failed = "job_failed"
    job_not_cancellable = "job_not_cancellable"
    missing_api_key = "missing_api_key"
    wrong_api_key = "wrong_api_key"
    keys_disabled = "keys_disabled"
    payload_too_large = "payload_too_large"
    unsupported_media_type = "unsupported_media_type"
    quota_exceeded = "quota_exceeded"
    not_ready = "not_ready"
    internal_error = "internal_error"


class ApiError(JiebangError):
    """A user error: its HTTP status (fixed by the subclass), code and Chinese message."""

    status_code = 400

    def __init__(self, code: ErrorCode, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.code = code
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


class PayloadTooLarge(ApiError):
    status_code = 413


class UnsupportedMediaType(ApiError):
    status_code = 415


class TooManyRequests(ApiError):
    status_code = 429


class NotReady(ApiError):
    status_code = 503


_PATH = re.compile(r"(?<![\w.])/(?:[\w.@+-]+/)*[\w.@+-]+")


def redact_paths(text: str) -> str:
    """`text` with absolute file paths replaced by their last part: the server's layout stays
    private (readiness, job errors)."""
    return _PATH.sub(lambda m: "…/" + m[0].rsplit("/", 1)[-1], text)


class FieldError(BaseModel):
    """One bad field of a request: where, what (pydantic's error type), and in Chinese."""

    field: str
    code: str
    message: str
    limit: float | None = None


class ErrorInfo(BaseModel):
    code: ErrorCode
    message: str = Field(description="One line of Chinese for people.")
    detail: list[FieldError] | list[str] | None = Field(
        default=None,
        description="Validation errors: each bad field; a refused upload: its first bad rows.",
    )


class ErrorBody(BaseModel):
    """Every error response."""

    error: ErrorInfo


# The type of a route's `responses=`: status code → OpenAPI response object.
Responses = dict[int | str, dict[str, Any]]


def error_response(
    status: int, code: ErrorCode, message: str, detail: Any = None, headers: Any = None
) -> JSONResponse:
    info: dict[str, Any] = {"code": code.value, "message": message}
    if detail is not None:
        info["detail"] = detail
    return JSONResponse({"error": info}, status_code=status, headers=headers)


# --- validation errors in Chinese ------------------------------------------------------------

FIELD_NAMES = {
    "text": "技术难题",
    "area": "领域",
    "id": "编号",
    "top": "数量",
    "kind": "机构类型",
    "region": "地区",
    "format": "格式",
    "size": "团队规模",
    "teams": "团队数",
    "gap_threshold": "覆盖阈值",
    "file": "文件",
    "min_confidence": "最低置信度",
    "name": "名称",
    "capability": "能力描述",
    "job": "任务编号",
    "part": "文件部分",
    "q": "搜索词",
    "offset": "起始位置",
    "limit": "每页条数",
    "replace": "replace",
    "org_id": "机构编号",
    "grade": "评分",
    "note": "备注",
    "history": "history",
}


def _field(location: tuple[Any, ...]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "request"


def _label(field: str) -> str:
    last = field.rsplit(".", 1)[-1]
    return FIELD_NAMES.get(last, f"字段 {field}")


def _field_message(err: dict[str, Any], field: str) -> tuple[str, float | None]:
    """A Chinese sentence for one pydantic error, and the limit it names, if any."""
    kind, ctx, value = err.get("type", ""), err.get("ctx") or {}, err.get("input")
    label = _label(field)
    if kind == "missing":
        return f"缺少{label}", None
    if kind in ("string_too_long", "too_long"):
        limit = ctx.get("max_length")
        size = f"，当前 {len(value)} 字" if isinstance(value, str) else ""
        return f"{label}最多 {limit} 字{size}；请删减后再提交（不会自动截断）", limit
    if kind in ("string_too_short", "too_short"):
        limit = ctx.get("min_length")
        return (f"{label}不能为空", limit) if limit == 1 else (f"{label}至少 {limit} 字", limit)
    bounds = {
        "greater_than_equal": ("不能小于", "ge"),
        "less_than_equal": ("不能大于", "le"),
        "greater_than": ("须大于", "gt"),
        "less_than": ("须小于", "lt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"{label}{words} {ctx.get(key)}", ctx.get(key)
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{label}须为整数", None
    if kind in ("float_parsing", "float_type"):
        return f"{label}须为数字", None
    if kind in ("bool_parsing", "bool_type"):
        return f"{label}须为 true 或 false", None
    if kind in ("enum", "literal_error"):
        expected = str(ctx.get("expected", "")).replace(" or ", ", ")
        return f"{label}须为以下之一：{expected}", None
    if kind == "extra_forbidden":
        return f"不认识的字段「{field}」", None
    if kind == "json_invalid":
        return "请求体不是合法的 JSON", None
    if kind == "string_pattern_mismatch":
        return f"{label}格式不对：只能用字母、数字和 . _ -，以字母或数字开头，最长 64 个字符", None
    if kind in ("string_type", "string_unicode"):
        return f"{label}须为文本", None
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "请求体须为 JSON 对象", None
    if kind in ("blank", "control_characters", "no_letters", "grade"):
        return f"{label}{err.get('msg', '')}", None
    return f"{label}无效（{err.get('msg', kind)}）", None


def validation_detail(errors: list[dict[str, Any]]) -> list[FieldError]:
    detail = []
    for err in errors:
        field = "body" if err.get("type") == "json_invalid" else _field(tuple(err.get("loc", ())))
        message, limit = _field_message(err, field)
        detail.append(FieldError(field=field, code=err.get("type", "invalid"), message=message))
        if limit is not None:
            detail[-1].limit = limit
    return detail


def _validation_message(detail: list[FieldError]) -> str:
    if not detail:
        return "请求无效"
    more = f"（另有 {len(detail) - 1} 处错误）" if len(detail) > 1 else ""
    return f"{detail[0].message}{more}"


HTTP_MESSAGES = {
    404: (ErrorCode.route_not_found, "没有这个地址"),
    405: (ErrorCode.method_not_allowed, "这个地址不支持此请求方法"),
}


def install_error_handlers(app: FastAPI) -> None:
    """JiebangError → its 4xx, validation → 422, HTTP errors → JSON, anything else → 500 JSON."""

    @app.exception_handler(JiebangError)
    async def jiebang_error(_request: Request, error: JiebangError) -> JSONResponse:
        if isinstance(error, ApiError):
            return error_response(error.status_code, error.code, str(error), error.detail)
        # A library error reaching the API (a bad file, an impossible request): still 4xx.
        return error_response(422, ErrorCode.invalid_input, f"无法处理：{error}")

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
        detail = validation_detail(list(error.errors()))
        return error_response(
            422,
            ErrorCode.invalid_input,
            _validation_message(detail),
            [d.model_dump(exclude_none=True) for d in detail],
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400 and isinstance(error.__cause__, UnicodeDecodeError):
            # FastAPI's "error parsing the body" for bytes that are not UTF-8: a bad body like
            # any other, so the documented 422, not an undocumented 400 (found by fuzzing).
            return error_response(422, ErrorCode.invalid_input, "请求体不是合法的 UTF-8 文本")
        code, message = HTTP_MESSAGES.get(
            error.status_code, (ErrorCode.bad_request, f"请求无效（{error.detail}）")
        )
        return error_response(error.status_code, code, message, headers=error.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, ErrorCode.internal_error, "服务器内部错误，详情见服务器日志")
