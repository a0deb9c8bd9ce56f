"""Absolute URLs of the service, as links in responses show them."""

from __future__ import annotations

from fastapi import Request


def absolute_path(request: Request, path: str) -> str:
    """Return ``path`` on the public base URL, or on the request's own host when unset."""
    base: str | None = request.app.state.settings.base_url
    if base:
        return base.rstrip("/") + path
    return f"{request.url.scheme}://{request.url.netloc}{path}"
