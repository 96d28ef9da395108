"""Bound request bodies: by Content-Length up front, and by counting while the body streams in."""

from __future__ import annotations

import json
from collections.abc import Collection

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Multipart framing (boundaries, part headers) around an uploaded file.
MULTIPART_SLACK_BYTES = 64 * 1024


class BodySizeLimit:
    """ASGI middleware: 413 JSON when a body is larger than allowed for its path.

    Upload paths are allowed `upload_bytes` (plus multipart framing); every other request
    `body_bytes`. A chunked body without Content-Length is counted as it arrives.
    """

    def __init__(
        self, app: ASGIApp, *, body_bytes: int, upload_bytes: int, upload_paths: Collection[str]
    ) -> None:
        self.app = app
        self.body_bytes = body_bytes
        self.upload_bytes = upload_bytes
        self.upload_paths = frozenset(upload_paths)

    def _limit(self, path: str) -> tuple[int, str]:
        if path in self.upload_paths:
            return (
                self.upload_bytes + MULTIPART_SLACK_BYTES,
                f"上传文件超过 {megabytes(self.upload_bytes)} 上限",
            )
        return self.body_bytes, f"请求体超过 {megabytes(self.body_bytes)} 上限"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, message = self._limit(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > limit
            except ValueError:
                await _reject(send, 400, "请求头 Content-Length 无效", code="bad_request")
                return
            if too_large:
                await _reject(send, 413, message)
                return

        received = 0
        started = rejected = False

        async def counting_receive() -> Message:
            nonlocal received, rejected
            message_in = await receive()
            if message_in["type"] == "http.request":
                received += len(message_in.get("body", b""))
                if received > limit:
                    if not started and not rejected:
                        rejected = True
                        await _reject(send, 413, message)
                    # Stop reading: to the app the client has gone.
                    return {"type": "http.disconnect"}
            return message_in

        async def tracking_send(message_out: Message) -> None:
            nonlocal started
            if rejected:
                return  # the 413 is already sent; the app's own answer is dropped
            started = started or message_out["type"] == "http.response.start"
            await send(message_out)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except Exception:
            if not rejected:
                raise


def megabytes(size: int) -> str:
    """A byte limit as people read it: 2 MB, 0.5 MB."""
    return f"{size / 1_000_000:g} MB"


async def _reject(send: Send, status: int, message: str, code: str = "payload_too_large") -> None:
    # Shaped like `errors.ErrorBody` (this runs outside FastAPI's exception handlers).
    body = json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
