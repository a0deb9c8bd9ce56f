"""The path template of the route that served a request, for logs and metrics."""

from __future__ import annotations

import weakref
from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.types import Scope

# Path templates by route object, one map per application.
_templates: weakref.WeakKeyDictionary[Any, dict[int, str]] = weakref.WeakKeyDictionary()


def route_template(scope: Scope) -> str | None:
    """Return the template of the matched route, e.g. ``/api/v1/import/{reference}/status``.

    Returns None before routing and when no route matched.
    """
    route = scope.get("route")
    if route is None:
        return None
    app = scope["app"]
    templates = _templates.get(app)
    if templates is None:
        templates = _build_templates(app.routes)
        _templates[app] = templates
    return templates.get(id(route)) or str(getattr(route, "path", ""))


def _build_templates(routes: Any) -> dict[int, str]:
    # FastAPI keeps included routers nested, so the route that routing puts in
    # scope["route"] has its path without the router's prefix. The route
    # contexts carry the full template.
    # NOTE: a route object included under two prefixes gets the first one.
    templates: dict[int, str] = {}
    for context in iter_route_contexts(routes):
        path_format = context.path_format
        if isinstance(path_format, str):
            templates.setdefault(id(context.original_route), path_format)
    return templates
