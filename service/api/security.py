"""API keys: write endpoints always need `X-API-Key`; read endpoints only when configured."""

from __future__ import annotations

import hmac

from fastapi import Request, Security
from fastapi.security import APIKeyHeader

from service.api.errors import Forbidden, Unauthorized

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
        raise Forbidden("this server accepts no keyed requests: start it with JIEBANG_API_KEY set")
    if not supplied:
        raise Unauthorized(f"missing {API_KEY_HEADER} header: this endpoint needs the API key")
    if not hmac.compare_digest(supplied.encode(), expected.encode()):
        raise Unauthorized(f"wrong {API_KEY_HEADER}")


def require_write_key(request: Request, key: str | None = Security(_header)) -> None:
    """Dependency of every endpoint that changes state."""
    _check(request, key)


def require_read_key(request: Request, key: str | None = Security(_header)) -> None:
    """Dependency of read endpoints, attached only when `read_requires_key` is set."""
    _check(request, key)
