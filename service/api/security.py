"""API keys: write endpoints always need `X-API-Key`; read endpoints only when configured."""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request, Security
from fastapi.security import APIKeyHeader

from service.api.errors import ErrorCode, Forbidden, Unauthorized

API_KEY_HEADER = "X-API-Key"
_header = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    scheme_name="ApiKey",
    description="The service's key (JIEBANG_API_KEY), compared in constant time.",
)


def _check(request: Request, supplied: str | None) -> None:
    expected: str | None = request.app.state.settings.api_key
    if not expected:
        raise Forbidden(
            ErrorCode.keys_disabled,
            "此服务未设置 API 密钥，不接受需要密钥的请求：请以 JIEBANG_API_KEY 启动服务",
        )
    if not supplied:
        raise Unauthorized(
            ErrorCode.missing_api_key,
            f"缺少 API 密钥：发布、修改、删除和上传需要密钥（请求头 {API_KEY_HEADER}）",
        )
    if not hmac.compare_digest(supplied.encode(), expected.encode()):
        raise Unauthorized(ErrorCode.wrong_api_key, "API 密钥不正确")


def require_write_key(request: Request, key: str | None = Security(_header)) -> None:
    """Dependency of every endpoint that changes state."""
    _check(request, key)


def require_read_key(request: Request, key: str | None = Security(_header)) -> None:
    """Dependency of read endpoints, attached only when `read_requires_key` is set."""
    _check(request, key)


def key_hash(key: str | None) -> str:
    """What is stored of a key (never the key): jobs count quotas by it, judgments say whose."""
    return hashlib.sha256((key or "").encode()).hexdigest()
