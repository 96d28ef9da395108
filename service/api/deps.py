"""Dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from service.api.errors import ErrorCode, UnsupportedMediaType
from service.api.state import ServiceState


def _state(request: Request) -> ServiceState:
    return request.app.state.jiebang


State = Annotated[ServiceState, Depends(_state)]


def require_json(request: Request) -> None:
    """415 unless the request body is declared as JSON (`application/json` or `…+json`)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaType(
            ErrorCode.unsupported_media_type,
            f"请求体须为 JSON（Content-Type: application/json），收到的是 {media_type or '无'}",
        )


JsonBody = Depends(require_json)
