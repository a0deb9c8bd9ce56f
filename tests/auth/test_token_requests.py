"""Token endpoint body parsing and client authentication, beyond the golden table."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.auth.models import OAuthClient
from maizeplus.auth.service import create_account
from maizeplus.kit.clock import utcnow
from maizeplus.tenants.service import get_tenant
from tests.auth.oauth import (
    ENCODINGS,
    JSON_ACCEPT,
    TOKEN_URL,
    assert_no_store,
    assert_oauth_error,
    basic_header,
    execute,
    fetch_access_token,
    password_fields,
    post_token,
)
from tests.support import TenantCredentials, run_async


def post_raw(
    api: httpx.Client, body: bytes, content_type: str | None
) -> httpx.Response:
    headers = dict(JSON_ACCEPT)
    if content_type is not None:
        headers["Content-Type"] = content_type
    return api.post(TOKEN_URL, content=body, headers=headers)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"grant_type": "password",', "application/json"),
        (b'["grant_type", "password"]', "application/json"),
        (b'"password"', "application/json"),
        (b"[" * 60_000, "application/json"),
        (b"\xff\xfe", "application/json"),
        (b"grant_type=password&username=%FF", "application/x-www-form-urlencoded"),
        (b"--x\r\nbroken", "multipart/form-data; boundary=x"),
        (b"grant_type=password", "multipart/form-data"),
        (b"grant_type=password", "text/plain"),
        (b"grant_type=password", None),
    ],
    ids=[
        "json-truncated",
        "json-array",
        "json-string",
        "json-deeply-nested",
        "json-not-utf8",
        "urlencoded-not-utf8",
        "multipart-truncated",
        "multipart-no-boundary",
        "text-plain",
        "no-content-type",
    ],
)
def test_token_unreadable_body_is_invalid_request(
    api: httpx.Client, body: bytes, content_type: str | None
) -> None:
    response = post_raw(api, body, content_type)

    assert_oauth_error(response, 400, "invalid_request")


def test_token_empty_body_is_grant_type_missing(api: httpx.Client) -> None:
    response = post_raw(api, b"", None)

    assert_oauth_error(response, 400, "invalid_request")
    assert "grant_type" in response.json()["error_description"]


def test_token_body_over_limit_is_invalid_request(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    response = post_token(
        api, password_fields(tenant, password="x" * 70_000), "urlencoded"
    )

    assert_oauth_error(response, 400, "invalid_request")
    assert "larger than" in response.json()["error_description"]


def test_token_chunked_body_over_limit_is_invalid_request(api: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"grant_type=password&password="
        for _ in range(20):
            yield b"x" * 8192

    response = api.post(
        TOKEN_URL,
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded", **JSON_ACCEPT},
    )

    assert "content-length" not in response.request.headers
    assert_oauth_error(response, 400, "invalid_request")


def test_token_json_repeated_key_is_invalid_request(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    fields = json.dumps(password_fields(tenant))[:-1] + ', "password": "other"}'

    response = post_raw(api, fields.encode(), "application/json")

    assert_oauth_error(response, 400, "invalid_request")
    assert "password" in response.json()["error_description"]


def test_token_form_repeated_field_is_invalid_request(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    body = httpx.QueryParams(password_fields(tenant)).add("username", "b@example.com")

    response = post_raw(api, str(body).encode(), "application/x-www-form-urlencoded")

    assert_oauth_error(response, 400, "invalid_request")
    assert "username" in response.json()["error_description"]


def test_token_unknown_fields_are_ignored(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    fields = {**password_fields(tenant), "extra": {"nested": [1, 2]}, "other": True}

    response = api.post(TOKEN_URL, json=fields, headers=JSON_ACCEPT)

    assert response.status_code == 200, response.text


@pytest.mark.parametrize("value", [True, 7.5, ["password"], {"a": "b"}])
def test_token_json_non_string_is_invalid_request(
    api: httpx.Client, tenant: TenantCredentials, value: object
) -> None:
    response = api.post(
        TOKEN_URL, json=password_fields(tenant, username=value), headers=JSON_ACCEPT
    )

    assert_oauth_error(response, 400, "invalid_request")
    assert "username" in response.json()["error_description"]


def test_token_json_string_client_id_is_accepted(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    fields = password_fields(tenant, client_id=str(tenant.client_id))

    response = post_token(api, fields, "json")

    assert response.status_code == 200, response.text


def test_token_file_field_is_invalid_request(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    parts: dict[str, tuple[str | None, str | bytes, str | None]] = {
        name: (None, str(value), None)
        for name, value in password_fields(tenant).items()
    }
    parts["password"] = ("password.txt", tenant.password.encode(), "text/plain")

    response = api.post(TOKEN_URL, files=parts, headers=JSON_ACCEPT)

    assert_oauth_error(response, 400, "invalid_request")
    assert "password" in response.json()["error_description"]


@pytest.mark.parametrize("name", ["username", "password"])
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_token_missing_parameter_is_named(
    api: httpx.Client, tenant: TenantCredentials, name: str, encoding: str
) -> None:
    response = post_token(api, password_fields(tenant, **{name: None}), encoding)

    assert_oauth_error(response, 400, "invalid_request")
    assert name in response.json()["error_description"]


def test_token_empty_value_counts_as_missing(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    response = post_token(api, password_fields(tenant, password=""))

    assert_oauth_error(response, 400, "invalid_request")
    assert "password" in response.json()["error_description"]


@pytest.mark.parametrize("scope", ["", "* ", "* *"])
def test_token_scope_meaning_all_is_accepted(
    api: httpx.Client, database_url: str, tenant: TenantCredentials, scope: str
) -> None:
    response = post_token(api, password_fields(tenant, scope=scope))

    assert response.status_code == 200, response.text
    assert (
        fetch_access_token(database_url, response.json()["access_token"]).scopes == "*"
    )


def test_token_scope_omitted_means_all(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    response = post_token(api, password_fields(tenant, scope=None))

    assert response.status_code == 200, response.text


def test_token_scope_list_with_unknown_is_invalid(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    response = post_token(api, password_fields(tenant, scope="* users:write"))

    assert_oauth_error(response, 400, "invalid_scope")
    assert "users:write" in response.json()["hint"]


@pytest.mark.parametrize(
    "client_id", ["abc", "1.0", "-1", " 1", "0x1", "99999999999999999999", "٣"]
)
def test_token_malformed_client_id_is_invalid_client(
    api: httpx.Client, tenant: TenantCredentials, client_id: str
) -> None:
    response = post_token(api, password_fields(tenant, client_id=client_id))

    assert_oauth_error(response, 401, "invalid_client")
    assert "www-authenticate" not in response.headers


def test_token_client_id_missing_is_invalid_client(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    response = post_token(api, password_fields(tenant, client_id=None))

    assert_oauth_error(response, 401, "invalid_client")


def test_token_revoked_client_is_invalid_client(
    api: httpx.Client, database_url: str, tenant: TenantCredentials
) -> None:
    execute(
        database_url,
        update(OAuthClient)
        .where(OAuthClient.id == tenant.client_id)
        .values(revoked_at=utcnow() - timedelta(seconds=1)),
    )

    response = post_token(api, password_fields(tenant))

    assert_oauth_error(response, 401, "invalid_client")


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_token_basic_auth_succeeds(
    api: httpx.Client, tenant: TenantCredentials, encoding: str
) -> None:
    fields = password_fields(tenant, client_id=None, client_secret=None)
    headers = basic_header(tenant.client_id, tenant.client_secret)

    response = post_token(api, fields, encoding, headers)

    assert response.status_code == 200, response.text
    assert_no_store(response)


def test_token_basic_auth_with_matching_body_id_succeeds(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    fields = password_fields(tenant, client_secret=None)
    headers = basic_header(tenant.client_id, tenant.client_secret)

    response = post_token(api, fields, headers=headers)

    assert response.status_code == 200, response.text


def test_token_basic_and_body_secret_rejected(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    headers = basic_header(tenant.client_id, tenant.client_secret)

    response = post_token(api, password_fields(tenant), headers=headers)

    assert_oauth_error(response, 400, "invalid_request")


def test_token_basic_and_other_body_id_rejected(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    fields = password_fields(tenant, client_id=tenant.client_id + 1, client_secret=None)
    headers = basic_header(tenant.client_id, tenant.client_secret)

    response = post_token(api, fields, headers=headers)

    assert_oauth_error(response, 400, "invalid_request")


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic not-base64!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
        "Basic",
    ],
    ids=["not-base64", "no-colon", "not-utf8", "empty"],
)
def test_token_malformed_basic_auth_is_invalid_client(
    api: httpx.Client, tenant: TenantCredentials, authorization: str
) -> None:
    fields = password_fields(tenant, client_id=None, client_secret=None)

    response = post_token(api, fields, headers={"Authorization": authorization})

    assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"] == 'Basic realm="oauth"'


def test_token_basic_auth_parts_are_form_decoded(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    # RFC 6749 section 2.3.1: "%31" is the form encoding of "1", and so on.
    encoded_id = "".join(f"%{ord(char):02X}" for char in str(tenant.client_id))
    fields = password_fields(tenant, client_id=None, client_secret=None)

    response = post_token(
        api, fields, headers=basic_header(encoded_id, tenant.client_secret)
    )

    assert response.status_code == 200, response.text


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_token_other_tenant_account_is_invalid_grant(
    api: httpx.Client,
    tenant: TenantCredentials,
    other_tenant: TenantCredentials,
    encoding: str,
) -> None:
    fields = password_fields(
        tenant, username=other_tenant.username, password=other_tenant.password
    )
    wrong_password = post_token(
        api, password_fields(tenant, password="Wrong-Horse-Battery"), encoding
    )

    response = post_token(api, fields, encoding)

    assert_oauth_error(response, 400, "invalid_grant")
    assert response.json() == wrong_password.json()


def test_token_same_username_resolves_in_client_tenant(
    api: httpx.Client,
    database_url: str,
    tenant: TenantCredentials,
    other_tenant: TenantCredentials,
) -> None:
    other_password = "Other-Tenant-Password-1"

    async def add_twin_account(session: AsyncSession) -> None:
        other = await get_tenant(session, other_tenant.name)
        await create_account(session, other, tenant.username, other_password)

    run_async(database_url, add_twin_account)

    foreign = post_token(api, password_fields(tenant, password=other_password))
    own = post_token(api, password_fields(tenant))

    assert_oauth_error(foreign, 400, "invalid_grant")
    assert own.status_code == 200, own.text
    stored = fetch_access_token(database_url, own.json()["access_token"])
    assert stored.tenant_id == tenant.tenant_id


def test_token_success_is_stored_as_digest(
    api: httpx.Client, database_url: str, tenant: TenantCredentials
) -> None:
    body = post_token(api, password_fields(tenant)).json()

    stored = fetch_access_token(database_url, body["access_token"])

    assert stored.digest != body["access_token"]
    assert len(stored.digest) == 64
    assert stored.tenant_id == tenant.tenant_id
    assert stored.client_id == tenant.client_id
    assert stored.account_id is not None
