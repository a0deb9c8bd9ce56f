"""Forbid caches to keep the responses of paths that carry credentials."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

NO_STORE_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class NoStore:
    """ASGI middleware: every response under ``path_prefix`` gets ``NO_STORE_HEADERS``.

    It covers the responses that a route does not build itself, such as a 413
    from ``BodySizeLimit`` or a 503 from the database error handler. A 500 of
    Starlette's outermost error handler passes no middleware, so that handler
    sets the same headers itself.
    """

    def __init__(self, app: ASGIApp, path_prefix: str) -> None:
        self.app = app
        self.path_prefix = path_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.path_prefix):
            await self.app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() not in (b"cache-control", b"pragma")
                ]
                headers.extend(
                    (name.lower().encode(), value.encode())
                    for name, value in NO_STORE_HEADERS.items()
                )
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_no_store)
