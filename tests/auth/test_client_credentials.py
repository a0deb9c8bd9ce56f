"""The client_credentials grant: a tenant token without a user or refresh token."""

from __future__ import annotations

import httpx
import pytest

from tests.auth.oauth import (
    ENCODINGS,
    Fields,
    assert_no_store,
    assert_oauth_error,
    basic_header,
    fetch_access_token,
    post_token,
)
from tests.support import TenantCredentials


def client_fields(tenant: TenantCredentials, **overrides: object) -> Fields:
    fields: Fields = {
        "grant_type": "client_credentials",
        "client_id": tenant.client_id,
        "client_secret": tenant.client_secret,
    }
    fields.update(overrides)
    return {name: value for name, value in fields.items() if value is not None}


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_client_credentials_issues_tenant_token(
    api: httpx.Client, database_url: str, tenant: TenantCredentials, encoding: str
) -> None:
    response = post_token(api, client_fields(tenant), encoding)

    assert response.status_code == 200, response.text
    assert_no_store(response)
    body = response.json()
    assert set(body) == {"token_type", "expires_in", "access_token"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    stored = fetch_access_token(database_url, body["access_token"])
    assert stored.account_id is None
    assert stored.tenant_id == tenant.tenant_id
    assert stored.client_id == tenant.client_id


def test_client_credentials_token_lists_users(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    access_token = post_token(api, client_fields(tenant)).json()["access_token"]

    response = api.get(
        "/api/v1/users?page=1&limit=1",
        headers={
            "Authorization": f"Bearer {access_token}",
            "Accept": "application/json",
        },
    )

    assert response.status_code == 200, response.text


def test_client_credentials_basic_auth_succeeds(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    fields = client_fields(tenant, client_id=None, client_secret=None)
    headers = basic_header(tenant.client_id, tenant.client_secret)

    response = post_token(api, fields, headers=headers)

    assert response.status_code == 200, response.text


def test_client_credentials_wrong_secret_is_invalid_client(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    response = post_token(api, client_fields(tenant, client_secret="wrong"))

    assert_oauth_error(response, 401, "invalid_client")


def test_client_credentials_unknown_scope_is_invalid_scope(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    response = post_token(api, client_fields(tenant, scope="admin"))

    assert_oauth_error(response, 400, "invalid_scope")


def test_client_credentials_ignores_user_fields(
    api: httpx.Client, database_url: str, tenant: TenantCredentials
) -> None:
    fields = client_fields(tenant, username=tenant.username, password="anything")

    response = post_token(api, fields)

    assert response.status_code == 200, response.text
    stored = fetch_access_token(database_url, response.json()["access_token"])
    assert stored.account_id is None
