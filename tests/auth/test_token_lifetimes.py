"""Token lifetimes follow the settings, and tokens and locks end on their second."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import update

from maizeplus.auth.models import AccessToken, ApiAccount, RefreshToken
from maizeplus.auth.tokens import token_digest
from maizeplus.kit.clock import utcnow
from maizeplus.settings import Settings
from tests.auth.oauth import (
    assert_oauth_error,
    execute,
    fetch_access_token,
    fetch_refresh_token,
    log_in,
    password_fields,
    post_token,
    refresh_fields,
)
from tests.support import TenantCredentials

USERS_URL = "/api/v1/users?page=1&limit=1"
WAIT_LIMIT_SECONDS = 10


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"access_token_ttl_seconds": 120, "refresh_token_ttl_seconds": 600}
    )


def test_refresh_lifetimes_follow_settings(
    api: httpx.Client, database_url: str, tenant: TenantCredentials
) -> None:
    before = utcnow()
    first = log_in(api, tenant)
    second = post_token(api, refresh_fields(tenant, first["refresh_token"])).json()
    after = utcnow()

    for body in (first, second):
        assert body["expires_in"] == 120
        access = fetch_access_token(database_url, body["access_token"])
        refresh = fetch_refresh_token(database_url, body["refresh_token"])
        assert before + timedelta(seconds=120) <= access.expires_at
        assert access.expires_at <= after + timedelta(seconds=120)
        assert before + timedelta(seconds=600) <= refresh.expires_at
        assert refresh.expires_at <= after + timedelta(seconds=600)


def test_lifetimes_are_exact_seconds(
    api: httpx.Client, database_url: str, tenant: TenantCredentials
) -> None:
    body = log_in(api, tenant)

    access = fetch_access_token(database_url, body["access_token"])
    refresh = fetch_refresh_token(database_url, body["refresh_token"])

    assert access.expires_at - access.created_at == timedelta(seconds=120)
    assert refresh.expires_at - refresh.created_at == timedelta(seconds=600)
    assert access.expires_at.microsecond == 0


def wait_until(moment: datetime) -> None:
    """Sleep until the service's clock (whole UTC seconds) reaches ``moment``."""
    deadline = time.monotonic() + WAIT_LIMIT_SECONDS
    while utcnow() < moment:
        assert time.monotonic() < deadline, f"the clock did not reach {moment}"
        time.sleep(0.02)


def test_expiry_is_exact_to_the_second(
    api: httpx.Client,
    database_url: str,
    tenant: TenantCredentials,
    other_tenant: TenantCredentials,
) -> None:
    """Tokens and locks end at the start of the second they name, not before or after."""
    first = log_in(api, tenant)
    second = log_in(api, tenant)
    end = utcnow() + timedelta(seconds=3)
    execute(
        database_url,
        update(AccessToken)
        .where(AccessToken.digest == token_digest(tenant.access_token))
        .values(expires_at=end),
    )
    execute(
        database_url,
        update(RefreshToken)
        .where(
            RefreshToken.digest.in_(
                [
                    token_digest(first["refresh_token"]),
                    token_digest(second["refresh_token"]),
                ]
            )
        )
        .values(expires_at=end),
    )
    execute(
        database_url,
        update(ApiAccount)
        .where(ApiAccount.tenant_id == other_tenant.tenant_id)
        .values(failed_attempts=10, locked_until=end),
    )

    wait_until(end - timedelta(seconds=1))
    last_second = {
        "bearer": api.get(USERS_URL, headers=tenant.headers),
        "refresh": post_token(api, refresh_fields(tenant, first["refresh_token"])),
        "locked": post_token(api, password_fields(other_tenant)),
    }
    wait_until(end)
    at_end = {
        "bearer": api.get(USERS_URL, headers=tenant.headers),
        "refresh": post_token(api, refresh_fields(tenant, second["refresh_token"])),
        "locked": post_token(api, password_fields(other_tenant)),
    }

    assert last_second["bearer"].status_code == 200, last_second["bearer"].text
    assert last_second["refresh"].status_code == 200, last_second["refresh"].text
    assert_oauth_error(last_second["locked"], 400, "invalid_grant")
    assert at_end["bearer"].status_code == 401, at_end["bearer"].text
    assert_oauth_error(at_end["refresh"], 400, "invalid_grant")
    assert at_end["refresh"].json()["hint"] == "Token has expired"
    assert at_end["locked"].status_code == 200, at_end["locked"].text
