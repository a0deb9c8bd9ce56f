"""The liveness check and the error envelope of unknown routes."""

from __future__ import annotations

import httpx


def test_health_returns_ok(api: httpx.Client) -> None:
    response = api.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_reports_database(api: httpx.Client) -> None:
    response = api.get("/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_unknown_route_is_json_404(api: httpx.Client) -> None:
    response = api.get("/api/v1/nothing-here")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "message": "The route api/v1/nothing-here could not be found."
    }


def test_token_fixture_authenticates(api: httpx.Client, tenant) -> None:  # type: ignore[no-untyped-def]
    response = api.get("/api/v1/users", headers=tenant.headers)

    assert response.status_code in (200, 404)
