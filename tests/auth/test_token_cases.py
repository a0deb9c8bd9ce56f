"""The golden table of POST /oauth/token: every error case of the contract.

Each case names a request and the exact response it must get: status, body,
and the WWW-Authenticate challenge if any. Every case runs in each of the
three body encodings: multipart (what the Postman collection sends),
urlencoded and JSON. Every response must be JSON with ``Cache-Control:
no-store`` and ``Pragma: no-cache``, and must never repeat the password.

Cases T1 to T15 are those of tests/data/cases/C26-oauth-token-errors.txt. The
others cover the rest of the contract: missing parameters, the refresh token
that is unknown, expired, reused or another client's, a locked account, and
the rate limit, which runs with its default of 10 attempts a minute.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from maizeplus.auth.models import ApiAccount, RefreshToken
from maizeplus.auth.tokens import token_digest
from maizeplus.kit.clock import utcnow
from maizeplus.settings import Settings
from tests.auth.oauth import (
    ENCODINGS,
    TOKEN_URL,
    Fields,
    assert_no_store,
    basic_header,
    bearer,
    execute,
    log_in,
    password_fields,
    post_token,
    refresh_fields,
)
from tests.support import TenantCredentials, make_tenant

UNKNOWN_CLIENT_ID = 999
WRONG_PASSWORD = "Wrong-Horse-Battery"
TOKEN_LIMIT = 10
BASIC_CHALLENGE = 'Basic realm="oauth"'
MISSING_CLIENT_HINT = (
    "Send client_id and client_secret in the request body or in an "
    "Authorization: Basic header"
)


def oauth_error(
    error: str, description: str, hint: str | None = None
) -> dict[str, str]:
    """Return the body of an OAuth error in Passport's shape."""
    body = {"error": error, "error_description": description, "message": description}
    if hint is not None:
        body["hint"] = hint
    return body


def missing(parameter: str) -> dict[str, str]:
    return oauth_error(
        "invalid_request",
        f"The request is missing the required parameter {parameter}.",
        f"Check the `{parameter}` parameter",
    )


WRONG_CREDENTIALS = oauth_error("invalid_grant", "The user credentials were incorrect.")
CLIENT_FAILED = oauth_error("invalid_client", "Client authentication failed")


def refresh_invalid(hint: str) -> dict[str, str]:
    return oauth_error("invalid_grant", "The refresh token is invalid.", hint)


@dataclass(frozen=True)
class Scene:
    """What a case may use to prepare its request: the server and a fresh tenant."""

    api: httpx.Client
    database_url: str
    tenant: TenantCredentials


@dataclass(frozen=True)
class Request:
    fields: Fields
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TokenCase:
    """One request to the token endpoint and the exact response it must get."""

    name: str
    prepare: Callable[[Scene], Request]
    status: int
    body: dict[str, Any] | None = None
    challenge: str | None = None


def password_request(**overrides: Any) -> Callable[[Scene], Request]:
    return lambda scene: Request(password_fields(scene.tenant, **overrides))


def locked_account(scene: Scene) -> Request:
    execute(
        scene.database_url,
        update(ApiAccount)
        .where(ApiAccount.tenant_id == scene.tenant.tenant_id)
        .values(failed_attempts=10, locked_until=utcnow() + timedelta(minutes=15)),
    )
    return Request(password_fields(scene.tenant))


def refresh_request(scene: Scene, refresh_token: str, **extra: Any) -> Request:
    return Request(refresh_fields(scene.tenant, refresh_token, **extra))


def expired_refresh_token(scene: Scene) -> Request:
    refresh_token = log_in(scene.api, scene.tenant)["refresh_token"]
    execute(
        scene.database_url,
        update(RefreshToken)
        .where(RefreshToken.digest == token_digest(refresh_token))
        .values(expires_at=utcnow()),
    )
    return refresh_request(scene, refresh_token)


def reused_refresh_token(scene: Scene) -> Request:
    refresh_token = log_in(scene.api, scene.tenant)["refresh_token"]
    rotated = post_token(scene.api, refresh_fields(scene.tenant, refresh_token))
    assert rotated.status_code == 200, rotated.text
    return refresh_request(scene, refresh_token)


def other_client_refresh_token(scene: Scene) -> Request:
    other = make_tenant(scene.database_url)
    refresh_token = log_in(scene.api, other)["refresh_token"]
    return refresh_request(scene, refresh_token)


def over_rate_limit(scene: Scene) -> Request:
    fields = password_fields(scene.tenant)
    for _ in range(TOKEN_LIMIT):
        response = post_token(scene.api, fields)
        assert response.status_code == 200, response.text
    return Request(fields)


CASES = [
    # T1, T2, T3: all fields right, in each encoding.
    TokenCase("all-fields-right", password_request(), 200),
    # T4
    TokenCase(
        "grant-type-missing",
        password_request(grant_type=None),
        400,
        missing("grant_type"),
    ),
    # T5
    TokenCase(
        "grant-type-typo",
        password_request(grant_type="pasword"),
        400,
        oauth_error(
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
            "Use password, refresh_token or client_credentials as `grant_type`",
        ),
    ),
    # T6
    TokenCase(
        "client-secret-missing",
        password_request(client_secret=None),
        401,
        oauth_error(
            "invalid_client", "Client authentication failed", MISSING_CLIENT_HINT
        ),
    ),
    TokenCase(
        "client-id-missing",
        password_request(client_id=None),
        401,
        oauth_error(
            "invalid_client", "Client authentication failed", MISSING_CLIENT_HINT
        ),
    ),
    # T7
    TokenCase(
        "client-secret-wrong",
        password_request(client_secret="s3cr3t-Cl1ent-Example"),
        401,
        CLIENT_FAILED,
    ),
    # T8
    TokenCase(
        "client-id-unknown",
        password_request(client_id=UNKNOWN_CLIENT_ID),
        401,
        CLIENT_FAILED,
    ),
    # T9
    TokenCase(
        "basic-auth-secret-wrong",
        lambda scene: Request(
            password_fields(scene.tenant, client_id=None, client_secret=None),
            basic_header(scene.tenant.client_id, "wrong"),
        ),
        401,
        CLIENT_FAILED,
        challenge=BASIC_CHALLENGE,
    ),
    TokenCase(
        "username-missing", password_request(username=None), 400, missing("username")
    ),
    TokenCase(
        "password-missing", password_request(password=None), 400, missing("password")
    ),
    # T10
    TokenCase(
        "password-wrong",
        password_request(password=WRONG_PASSWORD),
        400,
        WRONG_CREDENTIALS,
    ),
    # T11: the same body as a wrong password, so usernames cannot be enumerated.
    TokenCase(
        "username-unknown",
        password_request(username="nobody@example.com"),
        400,
        WRONG_CREDENTIALS,
    ),
    # A locked account rejects even the right password, exactly as a wrong one.
    TokenCase("account-locked", locked_account, 400, WRONG_CREDENTIALS),
    # T12
    TokenCase(
        "username-other-case",
        lambda scene: Request(
            password_fields(scene.tenant, username=scene.tenant.username.upper())
        ),
        200,
    ),
    # T13
    TokenCase(
        "scope-unknown",
        password_request(scope="nonexistent-scope"),
        400,
        oauth_error(
            "invalid_scope",
            "The requested scope is invalid, unknown, or malformed",
            "Check the `nonexistent-scope` scope",
        ),
    ),
    TokenCase(
        "refresh-token-missing",
        lambda scene: refresh_request(scene, ""),
        400,
        missing("refresh_token"),
    ),
    TokenCase(
        "refresh-token-unknown",
        lambda scene: refresh_request(scene, "not-a-refresh-token"),
        400,
        refresh_invalid("Token is unknown"),
    ),
    TokenCase(
        "refresh-token-expired",
        expired_refresh_token,
        400,
        refresh_invalid("Token has expired"),
    ),
    TokenCase(
        "refresh-token-reused",
        reused_refresh_token,
        400,
        refresh_invalid("Token has been revoked"),
    ),
    TokenCase(
        "refresh-token-other-client",
        other_client_refresh_token,
        400,
        refresh_invalid("Token is not linked to client"),
    ),
    TokenCase(
        "rate-limit-exceeded", over_rate_limit, 429, {"message": "Too Many Attempts."}
    ),
]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings with the default token rate limit."""
    default = Settings.model_fields["rate_limit_token_per_minute"].default
    return settings.model_copy(update={"rate_limit_token_per_minute": default})


def check_case(case: TokenCase, response: httpx.Response, password: str) -> None:
    assert response.status_code == case.status, response.text
    assert response.headers["content-type"] == "application/json"
    assert_no_store(response)
    assert password not in response.text
    assert response.headers.get("www-authenticate") == case.challenge
    body = response.json()
    if case.body is not None:
        assert body == case.body
        return
    assert set(body) == {"token_type", "expires_in", "access_token", "refresh_token"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["access_token"]
    assert body["refresh_token"]


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_token_golden_table(
    api: httpx.Client,
    database_url: str,
    encoding: str,
    subtests: pytest.Subtests,
) -> None:
    for case in CASES:
        with subtests.test(case=case.name):
            scene = Scene(api, database_url, make_tenant(database_url))
            request = case.prepare(scene)

            response = post_token(api, request.fields, encoding, request.headers)

            check_case(case, response, scene.tenant.password)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_token_other_method_is_json_405(api: httpx.Client, method: str) -> None:
    # T14
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
    # T15
    access_token = log_in(api, tenant)["access_token"]

    response = api.get("/api/v1/users?page=1&limit=1", headers=bearer(access_token))

    assert response.status_code == 200, response.text


def test_token_with_last_character_changed_is_401(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    # T15
    access_token = log_in(api, tenant)["access_token"]
    changed = access_token[:-1] + ("A" if access_token[-1] != "A" else "B")

    response = api.get("/api/v1/users?page=1&limit=1", headers=bearer(changed))

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"message": "Unauthenticated."}
