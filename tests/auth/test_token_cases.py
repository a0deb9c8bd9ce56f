"""The golden cases of POST /oauth/token for the password grant.

The cases are those of tests/data/cases/C26-oauth-token-errors.txt, labelled
T1 to T15 there. Every case that sends a body runs in each of the three body
encodings: multipart (what the Postman collection sends), urlencoded and JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest

from tests.auth.oauth import (
    ENCODINGS,
    TOKEN_URL,
    Fields,
    assert_no_store,
    assert_oauth_error,
    basic_header,
    bearer,
    log_in,
    password_fields,
    post_token,
)
from tests.support import TenantCredentials

UNKNOWN_CLIENT_ID = 999


@dataclass(frozen=True)
class TokenCase:
    """One request to the token endpoint and the response it must get."""

    name: str
    fields: Callable[[TenantCredentials], Fields]
    status: int
    error: str | None = None
    headers: Callable[[TenantCredentials], dict[str, str]] = lambda _tenant: {}
    # Words that the error_description must contain.
    mentions: tuple[str, ...] = ()
    expect_basic_challenge: bool = False


CASES = [
    # T1, T2, T3: all fields right.
    TokenCase("all-fields-right", password_fields, 200),
    # T4
    TokenCase(
        "grant-type-missing",
        lambda tenant: password_fields(tenant, grant_type=None),
        400,
        "invalid_request",
        mentions=("grant_type",),
    ),
    # T5
    TokenCase(
        "grant-type-typo",
        lambda tenant: password_fields(tenant, grant_type="pasword"),
        400,
        "unsupported_grant_type",
    ),
    # T6
    TokenCase(
        "client-secret-missing",
        lambda tenant: password_fields(tenant, client_secret=None),
        401,
        "invalid_client",
    ),
    # T7
    TokenCase(
        "client-secret-wrong",
        lambda tenant: password_fields(tenant, client_secret="s3cr3t-Cl1ent-Example"),
        401,
        "invalid_client",
    ),
    # T8
    TokenCase(
        "client-id-unknown",
        lambda tenant: password_fields(tenant, client_id=UNKNOWN_CLIENT_ID),
        401,
        "invalid_client",
    ),
    # T9
    TokenCase(
        "basic-auth-secret-wrong",
        lambda tenant: password_fields(tenant, client_id=None, client_secret=None),
        401,
        "invalid_client",
        headers=lambda tenant: basic_header(tenant.client_id, "wrong"),
        expect_basic_challenge=True,
    ),
    # T10
    TokenCase(
        "password-wrong",
        lambda tenant: password_fields(tenant, password="Wrong-Horse-Battery"),
        400,
        "invalid_grant",
    ),
    # T11
    TokenCase(
        "username-unknown",
        lambda tenant: password_fields(tenant, username="nobody@example.com"),
        400,
        "invalid_grant",
    ),
    # T12
    TokenCase(
        "username-other-case",
        lambda tenant: password_fields(tenant, username=tenant.username.upper()),
        200,
    ),
    # T13
    TokenCase(
        "scope-unknown",
        lambda tenant: password_fields(tenant, scope="nonexistent-scope"),
        400,
        "invalid_scope",
    ),
]


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_token_case(
    api: httpx.Client, tenant: TenantCredentials, case: TokenCase, encoding: str
) -> None:
    response = post_token(api, case.fields(tenant), encoding, case.headers(tenant))

    assert response.status_code == case.status, response.text
    assert response.headers["content-type"] == "application/json"
    assert_no_store(response)
    assert tenant.password not in response.text
    if case.error is None:
        body = response.json()
        assert set(body) == {
            "token_type",
            "expires_in",
            "access_token",
            "refresh_token",
        }
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == 3600
        assert body["access_token"]
        assert body["refresh_token"]
        return
    assert_oauth_error(response, case.status, case.error)
    description = response.json()["error_description"]
    for word in case.mentions:
        assert word in description
    challenge = response.headers.get("www-authenticate")
    if case.expect_basic_challenge:
        assert challenge == 'Basic realm="oauth"'
    else:
        assert challenge is None


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_token_unknown_user_matches_wrong_password(
    api: httpx.Client, tenant: TenantCredentials, encoding: str
) -> None:
    wrong_password = post_token(
        api, password_fields(tenant, password="Wrong-Horse-Battery"), encoding
    )
    unknown_user = post_token(
        api, password_fields(tenant, username="nobody@example.com"), encoding
    )

    assert wrong_password.status_code == 400
    assert unknown_user.status_code == wrong_password.status_code
    assert unknown_user.json() == wrong_password.json()


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_token_other_method_is_json_405(api: httpx.Client, method: str) -> None:
    response = api.request(method, TOKEN_URL, headers={"Accept": "application/json"})

    assert response.status_code == 405
    assert response.headers["content-type"] == "application/json"
    assert response.headers["allow"] == "POST"
    assert_no_store(response)
    assert response.json() == {
        "message": f"The {method} method is not supported for route oauth/token."
    }


def test_token_from_login_lists_users(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    access_token = log_in(api, tenant)["access_token"]

    response = api.get("/api/v1/users?page=1&limit=1", headers=bearer(access_token))

    assert response.status_code == 200, response.text


def test_token_with_last_character_changed_is_401(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    access_token = log_in(api, tenant)["access_token"]
    changed = access_token[:-1] + ("A" if access_token[-1] != "A" else "B")

    response = api.get("/api/v1/users?page=1&limit=1", headers=bearer(changed))

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"message": "Unauthenticated."}
