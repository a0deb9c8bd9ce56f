"""Reject request bodies over the upload limit before they are read to the end."""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from maizeplus.kit.errors import PayloadTooLarge

# Room for the multipart boundaries and part headers around the file itself.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
# Every other body (a DELETE of a thousand emails is about 40 KiB).
OTHER_BODY_BYTES = 1024 * 1024
UPLOAD_PATH = "/api/v1/import"


class BodySizeLimit:
    """ASGI middleware: a body over the limit gets a 413, with or without Content-Length."""

    def __init__(self, app: ASGIApp, limit: Callable[[], int]) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        if scope["path"].rstrip("/") == UPLOAD_PATH:
            limit = self.limit() + MULTIPART_OVERHEAD_BYTES
        else:
            limit = OTHER_BODY_BYTES
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_too_large(send, limit)
            return

        received = 0

        async def counting_receive() -> Message:
            # Raised inside the endpoint while it reads the body, so the
            # application's handler renders the 413.
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge(too_large_message(limit))
            return message

        await self.app(scope, counting_receive, send)


def too_large_message(limit: int) -> str:
    return f"The request body must not be greater than {limit // 1024} kilobytes."


async def _send_too_large(send: Send, limit: int) -> None:
    body = json.dumps({"message": too_large_message(limit)}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
