"""The suite-wide checks of tests/hygiene.py catch leaks that are planted for them.

The autouse fixture of tests/conftest.py runs these checks after every test.
Here a server with deliberately leaky routes shows that each check fails
when it should; the test takes the problems it planted, so the fixture
finds none left.
"""

from __future__ import annotations

import logging

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse

from maizeplus.app import create_app
from maizeplus.kit.openapi import error_responses
from maizeplus.settings import Settings
from tests.hygiene import (
    SECRET_WATCH,
    leaked_secrets,
    remember_secret,
    take_problems,
    undocumented_keys,
)
from tests.support import LiveServer, TenantCredentials

PLANTED_SECRET = "planted-secret-7c2f9d1e"


def leaky_app(settings: Settings) -> FastAPI:
    app = create_app(settings)
    logger = logging.getLogger("maizeplus.planted")

    @app.get("/planted/trace", responses=error_responses(400))
    async def trace() -> JSONResponse:
        body = 'Traceback (most recent call last):\n  File "/srv/app.py", line 3'
        return JSONResponse({"message": body}, status_code=400)

    @app.get("/planted/sql", responses=error_responses(400))
    async def sql() -> JSONResponse:
        body = "(sqlite3.OperationalError) near SELECT email FROM users WHERE id = 1"
        return JSONResponse({"message": body}, status_code=400)

    @app.get("/planted/text", responses=error_responses(400))
    async def text() -> PlainTextResponse:
        return PlainTextResponse("bad request", status_code=400)

    @app.get("/planted/extra-key")
    async def extra_key() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/planted/undocumented-status")
    async def undocumented_status() -> JSONResponse:
        return JSONResponse({"message": "Gone."}, status_code=410)

    @app.get("/planted/secret", responses=error_responses(400))
    async def secret() -> JSONResponse:
        logger.warning("token.rejected", extra={"token": PLANTED_SECRET})
        return JSONResponse({"message": f"bad {PLANTED_SECRET}"}, status_code=400)

    return app


def test_planted_leaks_are_caught(settings: Settings) -> None:
    remember_secret(PLANTED_SECRET)
    server = LiveServer(settings, app=leaky_app(settings)).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as api:
            for name in ("trace", "sql", "text", "undocumented-status", "secret"):
                api.get(f"/planted/{name}")
    finally:
        server.stop()
    problems = "\n".join(take_problems())
    leaks = leaked_secrets(SECRET_WATCH.take_lines())

    assert "/planted/trace 400: the error body shows 'Traceback" in problems
    assert "/planted/sql 400: the error body shows" in problems
    assert "SELECT email FROM" in problems
    assert "/planted/text 400: the error is text/plain" in problems
    assert (
        "/planted/undocumented-status 410: the status 410 is not documented" in problems
    )
    assert "/planted/secret 400: the body contains the secret plan..." in problems
    assert any("token.rejected" in line for line in leaks)


def test_undocumented_keys_found() -> None:
    schemas = {
        "Unit": {"type": "object", "properties": {"code": {"type": "string"}}},
        "Errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    }
    schema = {
        "type": "object",
        "properties": {
            "data": {"type": "array", "items": {"$ref": "#/components/schemas/Unit"}},
            "unit": {
                "anyOf": [{"$ref": "#/components/schemas/Unit"}, {"type": "null"}]
            },
            "errors": {"$ref": "#/components/schemas/Errors"},
        },
    }
    body = {
        "data": [{"code": "A"}, {"code": "B", "secret": 1}],
        "unit": {"code": "C", "name": "D"},
        "errors": {"any.field": ["x"]},
        "debug": True,
    }

    assert undocumented_keys(body, schema, schemas, "") == [
        "data[1].secret",
        "unit.name",
        "debug",
    ]


def test_real_errors_pass_checks(api: httpx.Client, tenant: TenantCredentials) -> None:
    for path in (
        "/api/v1/users?page=0",
        "/api/v1/nowhere",
        "/api/v1/import/latest/status",
    ):
        api.get(path, headers=tenant.headers)
    api.put("/api/v1/users", headers=tenant.headers)

    assert take_problems() == []
