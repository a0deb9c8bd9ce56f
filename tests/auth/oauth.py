"""Helpers for the OAuth tests: token requests in each body encoding, and checks."""

from __future__ import annotations

import base64
from typing import Any

import httpx
from sqlalchemy import Executable, select
from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.auth.models import AccessToken, ApiAccount, RefreshToken
from maizeplus.auth.tokens import token_digest
from tests.support import TenantCredentials, run_async

TOKEN_URL = "/oauth/token"
REVOCATION_URL = "/oauth/token/revoke"
ENCODINGS = ("multipart", "urlencoded", "json")
JSON_ACCEPT = {"Accept": "application/json"}

Fields = dict[str, Any]


def post_form(
    api: httpx.Client,
    url: str,
    fields: Fields,
    encoding: str = "multipart",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST ``fields`` as multipart (as Postman does), urlencoded or JSON."""
    all_headers = {**JSON_ACCEPT, **(headers or {})}
    if encoding == "multipart":
        # (None, value) makes httpx send a plain form field, without a filename.
        parts = {name: (None, str(value)) for name, value in fields.items()}
        return api.post(url, files=parts, headers=all_headers)
    if encoding == "urlencoded":
        text_fields = {name: str(value) for name, value in fields.items()}
        return api.post(url, data=text_fields, headers=all_headers)
    if encoding == "json":
        return api.post(url, json=fields, headers=all_headers)
    raise ValueError(f"unknown encoding {encoding!r}")


def post_token(
    api: httpx.Client,
    fields: Fields,
    encoding: str = "multipart",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return post_form(api, TOKEN_URL, fields, encoding, headers)


def password_fields(tenant: TenantCredentials, **overrides: Any) -> Fields:
    """Return the Postman collection's password-grant fields for ``tenant``."""
    fields: Fields = {
        "grant_type": "password",
        "client_id": tenant.client_id,
        "client_secret": tenant.client_secret,
        "username": tenant.username,
        "password": tenant.password,
        "scope": "*",
    }
    fields.update(overrides)
    return {name: value for name, value in fields.items() if value is not None}


def refresh_fields(
    tenant: TenantCredentials, refresh_token: str, **extra: Any
) -> Fields:
    fields: Fields = {
        "grant_type": "refresh_token",
        "client_id": tenant.client_id,
        "client_secret": tenant.client_secret,
        "refresh_token": refresh_token,
    }
    fields.update(extra)
    return {name: value for name, value in fields.items() if value is not None}


def basic_header(client_id: object, client_secret: str) -> dict[str, str]:
    credentials = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    return {"Authorization": f"Basic {credentials}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **JSON_ACCEPT}


def log_in(api: httpx.Client, tenant: TenantCredentials) -> dict[str, Any]:
    """Run the password grant for ``tenant`` and return the token body."""
    response = post_token(api, password_fields(tenant))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def assert_no_store(response: httpx.Response) -> None:
    assert response.headers.get("cache-control") == "no-store"
    assert response.headers.get("pragma") == "no-cache"


def assert_oauth_error(response: httpx.Response, status: int, error: str) -> None:
    """Check an error response: status, JSON content type, Passport's body shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert_no_store(response)
    body = response.json()
    assert body["error"] == error
    assert isinstance(body["error_description"], str)
    assert body["error_description"]
    assert body["message"] == body["error_description"]
    assert set(body) <= {"error", "error_description", "message", "hint"}


def execute(database_url: str, statement: Executable) -> None:
    """Run one statement on the test database and commit it."""

    async def work(session: AsyncSession) -> None:
        await session.execute(statement)

    run_async(database_url, work)


def fetch_access_token(database_url: str, token: str) -> AccessToken:
    async def work(session: AsyncSession) -> AccessToken:
        query = select(AccessToken).where(AccessToken.digest == token_digest(token))
        return (await session.execute(query)).scalar_one()

    return run_async(database_url, work)


def fetch_refresh_token(database_url: str, token: str) -> RefreshToken:
    async def work(session: AsyncSession) -> RefreshToken:
        query = select(RefreshToken).where(RefreshToken.digest == token_digest(token))
        return (await session.execute(query)).scalar_one()

    return run_async(database_url, work)


def fetch_account(database_url: str, tenant: TenantCredentials) -> ApiAccount:
    async def work(session: AsyncSession) -> ApiAccount:
        query = select(ApiAccount).where(
            ApiAccount.tenant_id == tenant.tenant_id,
            ApiAccount.username == tenant.username.lower(),
        )
        return (await session.execute(query)).scalar_one()

    return run_async(database_url, work)
