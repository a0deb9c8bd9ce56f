"""POST /oauth/token/revoke (RFC 7009)."""

from __future__ import annotations

import httpx
import pytest

from tests.auth.oauth import (
    ENCODINGS,
    REVOCATION_URL,
    Fields,
    assert_no_store,
    assert_oauth_error,
    basic_header,
    fetch_access_token,
    fetch_refresh_token,
    log_in,
    post_form,
    post_token,
    refresh_fields,
)
from tests.support import TenantCredentials


def revocation_fields(tenant: TenantCredentials, token: str, **extra: object) -> Fields:
    fields: Fields = {
        "token": token,
        "client_id": tenant.client_id,
        "client_secret": tenant.client_secret,
    }
    fields.update(extra)
    return {name: value for name, value in fields.items() if value is not None}


def assert_revoked_ok(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert_no_store(response)
    assert response.json() == {}


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_revoke_refresh_token_revokes_pair(
    api: httpx.Client, database_url: str, tenant: TenantCredentials, encoding: str
) -> None:
    tokens = log_in(api, tenant)
    fields = revocation_fields(
        tenant, tokens["refresh_token"], token_type_hint="refresh_token"
    )

    response = post_form(api, REVOCATION_URL, fields, encoding)

    assert_revoked_ok(response)
    assert fetch_refresh_token(database_url, tokens["refresh_token"]).revoked_at
    assert fetch_access_token(database_url, tokens["access_token"]).revoked_at
    refresh = post_token(api, refresh_fields(tenant, tokens["refresh_token"]))
    assert_oauth_error(refresh, 400, "invalid_grant")


def test_revoke_access_token_revokes_pair(
    api: httpx.Client, database_url: str, tenant: TenantCredentials
) -> None:
    tokens = log_in(api, tenant)

    response = post_form(
        api, REVOCATION_URL, revocation_fields(tenant, tokens["access_token"])
    )

    assert_revoked_ok(response)
    assert fetch_access_token(database_url, tokens["access_token"]).revoked_at
    assert fetch_refresh_token(database_url, tokens["refresh_token"]).revoked_at


def test_revoke_client_credentials_token(
    api: httpx.Client, database_url: str, tenant: TenantCredentials
) -> None:
    fields = {
        "grant_type": "client_credentials",
        "client_id": tenant.client_id,
        "client_secret": tenant.client_secret,
    }
    access_token = post_token(api, fields).json()["access_token"]

    response = post_form(api, REVOCATION_URL, revocation_fields(tenant, access_token))

    assert_revoked_ok(response)
    assert fetch_access_token(database_url, access_token).revoked_at


def test_revoke_unknown_token_is_200(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    response = post_form(api, REVOCATION_URL, revocation_fields(tenant, "unknown"))

    assert_revoked_ok(response)


def test_revoke_other_client_token_is_kept(
    api: httpx.Client,
    database_url: str,
    tenant: TenantCredentials,
    other_tenant: TenantCredentials,
) -> None:
    tokens = log_in(api, tenant)

    for token in (tokens["access_token"], tokens["refresh_token"]):
        response = post_form(
            api, REVOCATION_URL, revocation_fields(other_tenant, token)
        )
        assert_revoked_ok(response)

    assert fetch_access_token(database_url, tokens["access_token"]).revoked_at is None
    assert fetch_refresh_token(database_url, tokens["refresh_token"]).revoked_at is None


def test_revoke_basic_auth_succeeds(
    api: httpx.Client, database_url: str, tenant: TenantCredentials
) -> None:
    tokens = log_in(api, tenant)
    fields = revocation_fields(
        tenant, tokens["access_token"], client_id=None, client_secret=None
    )
    headers = basic_header(tenant.client_id, tenant.client_secret)

    response = post_form(api, REVOCATION_URL, fields, headers=headers)

    assert_revoked_ok(response)
    assert fetch_access_token(database_url, tokens["access_token"]).revoked_at


def test_revoke_wrong_basic_secret_is_challenged(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    fields = revocation_fields(tenant, "unknown", client_id=None, client_secret=None)

    response = post_form(
        api, REVOCATION_URL, fields, headers=basic_header(tenant.client_id, "wrong")
    )

    assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"] == 'Basic realm="oauth"'


def test_revoke_token_missing_is_invalid_request(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    response = post_form(api, REVOCATION_URL, revocation_fields(tenant, ""))

    assert_oauth_error(response, 400, "invalid_request")
    assert "token" in response.json()["error_description"]


def test_revoke_get_is_json_405(api: httpx.Client) -> None:
    response = api.get(REVOCATION_URL, headers={"Accept": "application/json"})

    assert response.status_code == 405
    assert response.headers["content-type"] == "application/json"
    assert_no_store(response)
