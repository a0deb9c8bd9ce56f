"""Every response under /oauth/ carries no-store, including those no route builds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from maizeplus.app import create_app
from maizeplus.kit.openapi import error_responses
from maizeplus.settings import Settings
from tests.auth.oauth import JSON_ACCEPT, TOKEN_URL, assert_no_store, password_fields
from tests.support import LiveServer, TenantCredentials

FAILING_PATH = "/oauth/test-probe/fails"


@pytest.fixture
def failing_api(settings: Settings) -> Iterator[httpx.Client]:
    """A live server of the application plus an OAuth route that raises."""
    app = create_app(settings)

    @app.post(FAILING_PATH, responses=error_responses(500))
    async def fail() -> None:
        raise RuntimeError("a fault in a token route")

    server = LiveServer(settings, app=app).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            yield client
    finally:
        server.stop()


def test_no_store_on_body_over_upload_limit(api: httpx.Client) -> None:
    body = b"grant_type=password&password=" + b"x" * (2 * 1024 * 1024)
    headers = {"Content-Type": "application/x-www-form-urlencoded", **JSON_ACCEPT}

    response = api.post(TOKEN_URL, content=body, headers=headers)

    assert response.status_code == 413
    assert_no_store(response)


def test_no_store_on_unknown_oauth_route(api: httpx.Client) -> None:
    response = api.get("/oauth/authorize", headers=JSON_ACCEPT)

    assert response.status_code == 404
    assert_no_store(response)


def test_no_store_on_server_error(failing_api: httpx.Client) -> None:
    response = failing_api.post(FAILING_PATH, headers=JSON_ACCEPT)

    assert response.status_code == 500
    assert response.json() == {"message": "Server Error."}
    assert_no_store(response)


def test_no_store_on_database_unavailable(
    tmp_path: Path, settings: Settings, tenant: TenantCredentials
) -> None:
    missing_folder = tmp_path / "missing" / "maizeplus.db"
    broken = settings.model_copy(update={"database_url": f"sqlite:///{missing_folder}"})
    server = LiveServer(broken).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            response = client.post(
                TOKEN_URL, data=password_fields(tenant), headers=JSON_ACCEPT
            )
    finally:
        server.stop()

    assert response.status_code == 503, response.text
    assert response.json() == {"message": "Service Unavailable."}
    assert_no_store(response)
