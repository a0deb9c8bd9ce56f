"""The refresh_token grant: rotation, reuse detection, expiry and ownership."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.auth.models import RefreshToken
from maizeplus.auth.service import IssuedClient, create_client
from maizeplus.auth.tokens import token_digest
from maizeplus.kit.clock import utcnow
from maizeplus.tenants.service import get_tenant
from tests.auth.oauth import (
    ENCODINGS,
    assert_no_store,
    assert_oauth_error,
    execute,
    fetch_access_token,
    fetch_refresh_token,
    log_in,
    post_token,
    refresh_fields,
)
from tests.support import TenantCredentials, run_async

PROBE_TIMEOUT_SECONDS = 30


def is_valid(database_url: str, access_token: str) -> bool:
    stored = fetch_access_token(database_url, access_token)
    return stored.revoked_at is None and stored.expires_at > utcnow()


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_refresh_rotates_pair(
    api: httpx.Client, database_url: str, tenant: TenantCredentials, encoding: str
) -> None:
    first = log_in(api, tenant)

    response = post_token(api, refresh_fields(tenant, first["refresh_token"]), encoding)

    assert response.status_code == 200, response.text
    assert_no_store(response)
    second = response.json()
    assert set(second) == {"token_type", "expires_in", "access_token", "refresh_token"}
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert not is_valid(database_url, first["access_token"])
    assert is_valid(database_url, second["access_token"])
    old_refresh = fetch_refresh_token(database_url, first["refresh_token"])
    new_refresh = fetch_refresh_token(database_url, second["refresh_token"])
    assert old_refresh.revoked_at is not None
    assert new_refresh.revoked_at is None
    assert new_refresh.family_id == old_refresh.family_id
    new_access = fetch_access_token(database_url, second["access_token"])
    assert (
        new_access.account_id
        == fetch_access_token(database_url, first["access_token"]).account_id
    )


def test_refresh_chain_keeps_working(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    refresh_token = log_in(api, tenant)["refresh_token"]

    for _ in range(3):
        response = post_token(api, refresh_fields(tenant, refresh_token))
        assert response.status_code == 200, response.text
        refresh_token = response.json()["refresh_token"]


def test_refresh_reuse_revokes_family(
    api: httpx.Client, database_url: str, tenant: TenantCredentials
) -> None:
    first = log_in(api, tenant)
    second = post_token(api, refresh_fields(tenant, first["refresh_token"])).json()

    replay = post_token(api, refresh_fields(tenant, first["refresh_token"]))
    after_replay = post_token(api, refresh_fields(tenant, second["refresh_token"]))

    assert_oauth_error(replay, 400, "invalid_grant")
    assert_oauth_error(after_replay, 400, "invalid_grant")
    assert not is_valid(database_url, second["access_token"])
    assert (
        fetch_refresh_token(database_url, second["refresh_token"]).revoked_at
        is not None
    )


def test_refresh_reuse_spares_other_families(
    api: httpx.Client, database_url: str, tenant: TenantCredentials
) -> None:
    stolen = log_in(api, tenant)
    other = log_in(api, tenant)
    post_token(api, refresh_fields(tenant, stolen["refresh_token"]))

    replay = post_token(api, refresh_fields(tenant, stolen["refresh_token"]))
    other_refresh = post_token(api, refresh_fields(tenant, other["refresh_token"]))

    assert_oauth_error(replay, 400, "invalid_grant")
    assert other_refresh.status_code == 200, other_refresh.text


def test_refresh_concurrent_use_revokes_family(
    api: httpx.Client, database_url: str, tenant: TenantCredentials
) -> None:
    """Of simultaneous uses of one refresh token, one rotates it and the rest are replays.

    A replay revokes the family, so the pair that the winner received is
    revoked too, because the server cannot tell which caller has a stolen copy.
    """
    first = log_in(api, tenant)
    fields = refresh_fields(tenant, first["refresh_token"])

    def refresh(_: int) -> httpx.Response:
        return post_token(api, fields)

    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(refresh, range(4), timeout=PROBE_TIMEOUT_SECONDS))

    statuses = [response.status_code for response in responses]
    assert statuses.count(200) == 1
    assert statuses.count(400) == 3
    for response in responses:
        if response.status_code == 400:
            assert_oauth_error(response, 400, "invalid_grant")
    winner = next(
        response.json() for response in responses if response.status_code == 200
    )
    assert not is_valid(database_url, winner["access_token"])
    assert fetch_refresh_token(database_url, winner["refresh_token"]).revoked_at
    replay = post_token(api, refresh_fields(tenant, winner["refresh_token"]))
    assert_oauth_error(replay, 400, "invalid_grant")


def test_refresh_expired_is_invalid_grant(
    api: httpx.Client, database_url: str, tenant: TenantCredentials
) -> None:
    tokens = log_in(api, tenant)
    execute(
        database_url,
        update(RefreshToken)
        .where(RefreshToken.digest == token_digest(tokens["refresh_token"]))
        .values(expires_at=utcnow() - timedelta(seconds=1)),
    )

    response = post_token(api, refresh_fields(tenant, tokens["refresh_token"]))

    assert_oauth_error(response, 400, "invalid_grant")
    # An expired token is no sign of theft, so its access token stays valid.
    assert is_valid(database_url, tokens["access_token"])


def test_refresh_unknown_is_invalid_grant(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    response = post_token(api, refresh_fields(tenant, "not-a-refresh-token"))

    assert_oauth_error(response, 400, "invalid_grant")


def test_refresh_missing_is_invalid_request(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    response = post_token(api, refresh_fields(tenant, ""))

    assert_oauth_error(response, 400, "invalid_request")
    assert "refresh_token" in response.json()["error_description"]


def test_refresh_access_token_is_invalid_grant(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    tokens = log_in(api, tenant)

    response = post_token(api, refresh_fields(tenant, tokens["access_token"]))

    assert_oauth_error(response, 400, "invalid_grant")


def test_refresh_other_tenant_client_is_invalid_grant(
    api: httpx.Client,
    database_url: str,
    tenant: TenantCredentials,
    other_tenant: TenantCredentials,
) -> None:
    tokens = log_in(api, tenant)

    foreign = post_token(api, refresh_fields(other_tenant, tokens["refresh_token"]))
    own = post_token(api, refresh_fields(tenant, tokens["refresh_token"]))

    assert_oauth_error(foreign, 400, "invalid_grant")
    assert own.status_code == 200, own.text
    stored = fetch_access_token(database_url, own.json()["access_token"])
    assert stored.tenant_id == tenant.tenant_id


def test_refresh_same_tenant_other_client_is_invalid_grant(
    api: httpx.Client, database_url: str, tenant: TenantCredentials
) -> None:
    async def add_client(session: AsyncSession) -> IssuedClient:
        return await create_client(session, await get_tenant(session, tenant.name), "b")

    second_client = run_async(database_url, add_client)
    tokens = log_in(api, tenant)
    fields = refresh_fields(
        tenant,
        tokens["refresh_token"],
        client_id=second_client.client_id,
        client_secret=second_client.client_secret,
    )

    response = post_token(api, fields)

    assert_oauth_error(response, 400, "invalid_grant")


def test_refresh_wrong_secret_keeps_token(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    tokens = log_in(api, tenant)
    fields = refresh_fields(tenant, tokens["refresh_token"], client_secret="wrong")

    rejected = post_token(api, fields)
    accepted = post_token(api, refresh_fields(tenant, tokens["refresh_token"]))

    assert_oauth_error(rejected, 401, "invalid_client")
    assert accepted.status_code == 200, accepted.text


@pytest.mark.parametrize(("scope", "status"), [("*", 200), ("other", 400)])
def test_refresh_scope_stays_within_grant(
    api: httpx.Client, tenant: TenantCredentials, scope: str, status: int
) -> None:
    tokens = log_in(api, tenant)

    response = post_token(
        api, refresh_fields(tenant, tokens["refresh_token"], scope=scope)
    )

    assert response.status_code == status, response.text
    if status == 400:
        assert_oauth_error(response, 400, "invalid_scope")
