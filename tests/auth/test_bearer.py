"""The bearer dependency (CurrentTenant) on a route under /api/v1.

A probe route that returns the resolved tenant is added to the real
application, so each case shows which tenant a token resolves to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from maizeplus.app import API_PREFIX, create_app
from maizeplus.auth.dependencies import CurrentTenant
from maizeplus.auth.models import AccessToken
from maizeplus.auth.tokens import token_digest
from maizeplus.kit.clock import utcnow
from maizeplus.kit.openapi import error_responses
from maizeplus.settings import Settings
from tests.auth.oauth import (
    JSON_ACCEPT,
    bearer,
    execute,
    log_in,
    post_token,
)
from tests.support import LiveServer, TenantCredentials

PROBE_PATH = f"{API_PREFIX}/test-probe/tenant"


@pytest.fixture
def probe_api(settings: Settings) -> Iterator[httpx.Client]:
    """A live server of the application plus a route that returns its tenant."""
    app = create_app(settings)

    @app.get(PROBE_PATH, responses=error_responses(401))
    async def probe(tenant: CurrentTenant) -> dict[str, object]:
        return {"tenant_id": tenant.tenant_id, "name": tenant.name}

    server = LiveServer(settings, app=app).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            yield client
    finally:
        server.stop()


def change_last_character(token: str) -> str:
    return token[:-1] + ("A" if token[-1] != "A" else "B")


def set_token_column(database_url: str, token: str, **values: object) -> None:
    execute(
        database_url,
        update(AccessToken)
        .where(AccessToken.digest == token_digest(token))
        .values(**values),
    )


def assert_unauthenticated(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"message": "Unauthenticated."}


def test_bearer_valid_token_resolves_tenant(
    probe_api: httpx.Client, tenant: TenantCredentials
) -> None:
    response = probe_api.get(PROBE_PATH, headers=tenant.headers)

    assert response.status_code == 200, response.text
    assert response.json() == {"tenant_id": tenant.tenant_id, "name": tenant.name}


def test_bearer_scheme_ignores_case(
    probe_api: httpx.Client, tenant: TenantCredentials
) -> None:
    headers = {"Authorization": f"bearer {tenant.access_token}", **JSON_ACCEPT}

    response = probe_api.get(PROBE_PATH, headers=headers)

    assert response.status_code == 200, response.text


def test_bearer_other_tenant_token_resolves_other_tenant(
    probe_api: httpx.Client, tenant: TenantCredentials, other_tenant: TenantCredentials
) -> None:
    response = probe_api.get(PROBE_PATH, headers=other_tenant.headers)

    assert response.status_code == 200, response.text
    assert response.json()["tenant_id"] == other_tenant.tenant_id
    assert response.json()["tenant_id"] != tenant.tenant_id


BadHeaders = Callable[[TenantCredentials], dict[str, str]]

BAD_HEADERS: dict[str, BadHeaders] = {
    "missing": lambda tenant: dict(JSON_ACCEPT),
    "scheme-only": lambda tenant: {"Authorization": "Bearer", **JSON_ACCEPT},
    "basic-scheme": lambda tenant: {
        "Authorization": f"Basic {tenant.access_token}",
        **JSON_ACCEPT,
    },
    "unknown": lambda tenant: bearer("not-a-token-that-was-issued"),
    "last-character-changed": lambda tenant: bearer(
        change_last_character(tenant.access_token)
    ),
    "client-secret": lambda tenant: bearer(tenant.client_secret),
}


@pytest.mark.parametrize("case", BAD_HEADERS, ids=list(BAD_HEADERS))
def test_bearer_bad_header_is_401(
    probe_api: httpx.Client, tenant: TenantCredentials, case: str
) -> None:
    response = probe_api.get(PROBE_PATH, headers=BAD_HEADERS[case](tenant))

    assert_unauthenticated(response)


def test_bearer_expired_token_is_401(
    probe_api: httpx.Client, database_url: str, tenant: TenantCredentials
) -> None:
    set_token_column(
        database_url, tenant.access_token, expires_at=utcnow() - timedelta(seconds=1)
    )

    response = probe_api.get(PROBE_PATH, headers=tenant.headers)

    assert_unauthenticated(response)


def test_bearer_revoked_token_is_401(
    probe_api: httpx.Client, database_url: str, tenant: TenantCredentials
) -> None:
    set_token_column(database_url, tenant.access_token, revoked_at=utcnow())

    response = probe_api.get(PROBE_PATH, headers=tenant.headers)

    assert_unauthenticated(response)


def test_bearer_refresh_token_is_401(
    probe_api: httpx.Client, tenant: TenantCredentials
) -> None:
    refresh_token = log_in(probe_api, tenant)["refresh_token"]

    response = probe_api.get(PROBE_PATH, headers=bearer(refresh_token))

    assert_unauthenticated(response)


def test_bearer_password_grant_token_resolves_tenant(
    probe_api: httpx.Client, tenant: TenantCredentials
) -> None:
    access_token = log_in(probe_api, tenant)["access_token"]

    response = probe_api.get(PROBE_PATH, headers=bearer(access_token))

    assert response.status_code == 200, response.text
    assert response.json()["tenant_id"] == tenant.tenant_id


def test_bearer_rotated_access_token_is_401(
    probe_api: httpx.Client, tenant: TenantCredentials
) -> None:
    first = log_in(probe_api, tenant)
    fields = {
        "grant_type": "refresh_token",
        "client_id": tenant.client_id,
        "client_secret": tenant.client_secret,
        "refresh_token": first["refresh_token"],
    }
    second = post_token(probe_api, fields).json()

    old = probe_api.get(PROBE_PATH, headers=bearer(first["access_token"]))
    new = probe_api.get(PROBE_PATH, headers=bearer(second["access_token"]))

    assert_unauthenticated(old)
    assert new.status_code == 200, new.text
