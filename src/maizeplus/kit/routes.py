"""Route templates for logs and metrics, and the methods that a path allows."""

from __future__ import annotations

import re
import weakref
from typing import Any

from starlette.routing import compile_path
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


def _route_contexts(routes: Any) -> Any:
    # FastAPI is imported here, not at the top, because the operator commands
    # load this module through the metrics and would pay for FastAPI at start.
    from fastapi.routing import iter_route_contexts

    return iter_route_contexts(routes)


def _build_templates(routes: Any) -> dict[int, str]:
    # FastAPI keeps included routers nested, so the route that routing puts in
    # scope["route"] has its path without the router's prefix. The route
    # contexts carry the full template.
    # NOTE: a route object included under two prefixes gets the first one.
    templates: dict[int, str] = {}
    for context in _route_contexts(routes):
        path_format = context.path_format
        if isinstance(path_format, str):
            templates.setdefault(id(context.original_route), path_format)
    return templates


# Documented routes by application: (compiled path template, methods).
_documented: weakref.WeakKeyDictionary[Any, list[tuple[re.Pattern[str], set[str]]]] = (
    weakref.WeakKeyDictionary()
)


def allowed_methods(app: Any, path: str) -> list[str]:
    """Return the methods of the documented routes whose template matches ``path``.

    Starlette's 405 names only the methods of the first route with that path,
    so ``GET /api/v1/users`` hid ``DELETE /api/v1/users``. Routes left out of
    the OpenAPI document (such as the token endpoint's catch-all for other
    methods) do not count.
    """
    routes = _documented.get(app)
    if routes is None:
        routes = [
            (compile_path(context.path_format)[0], set(context.methods or ()))
            for context in _route_contexts(app.routes)
            if isinstance(context.path_format, str)
            and getattr(context.original_route, "include_in_schema", False)
        ]
        _documented[app] = routes
    methods: set[str] = set()
    for pattern, route_methods in routes:
        if pattern.match(path):
            methods |= route_methods
    return sorted(methods)
