"""Rate limits of /api/v1 and /oauth/token with their default settings.

The suite's ``settings`` fixture raises every limit, so this module restores
the defaults, which the contract fixes: 60 requests a minute per access token
on /api/v1, and 10 a minute per client and username on /oauth/token.
"""

from __future__ import annotations

import logging
import time
import uuid
from ipaddress import ip_network

import httpx
import pytest

from maizeplus.settings import Settings
from tests.auth.oauth import (
    REVOCATION_URL,
    assert_no_store,
    assert_oauth_error,
    bearer,
    log_in,
    password_fields,
    post_form,
    post_token,
)
from tests.scrape import scrape, value
from tests.support import TenantCredentials, make_tenant

API_LIMIT = 60
TOKEN_LIMIT = 10
USERS_URL = "/api/v1/users?page=1&limit=1"
TOO_MANY = {"message": "Too Many Attempts."}
VERIFICATIONS = "maizeplus_secret_verifications_total"


def default_limits(settings: Settings) -> Settings:
    fields = Settings.model_fields
    return settings.model_copy(
        update={
            "rate_limit_api_per_minute": fields["rate_limit_api_per_minute"].default,
            "rate_limit_token_per_minute": fields[
                "rate_limit_token_per_minute"
            ].default,
        }
    )


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return default_limits(settings)


def use_up(api: httpx.Client, headers: dict[str, str], times: int) -> None:
    """Send ``times`` accepted requests and check the remaining count of each."""
    for sent in range(1, times + 1):
        response = api.get(USERS_URL, headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["x-ratelimit-remaining"] == str(API_LIMIT - sent)


def assert_too_many(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == TOO_MANY
    assert response.headers["x-ratelimit-limit"] == str(limit)
    assert response.headers["x-ratelimit-remaining"] == "0"
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 60
    reset = int(response.headers["x-ratelimit-reset"])
    assert abs(reset - (time.time() + retry_after)) <= 5


def test_rate_limit_defaults_match_contract() -> None:
    defaults = default_limits(Settings(database_url="sqlite://"))

    assert defaults.rate_limit_api_per_minute == API_LIMIT
    assert defaults.rate_limit_token_per_minute == TOKEN_LIMIT


def test_rate_limit_api_headers_count_down(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    first = api.get(USERS_URL, headers=tenant.headers)
    second = api.get(USERS_URL, headers=tenant.headers)

    assert first.status_code == 200, first.text
    assert first.headers["x-ratelimit-limit"] == str(API_LIMIT)
    assert first.headers["x-ratelimit-remaining"] == str(API_LIMIT - 1)
    assert "retry-after" not in first.headers
    assert second.headers["x-ratelimit-remaining"] == str(API_LIMIT - 2)


def test_rate_limit_api_headers_on_errors(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    not_found = api.get(f"/api/v1/import/{uuid.uuid4()}/status", headers=tenant.headers)
    invalid = api.get("/api/v1/users?page=0", headers=tenant.headers)

    assert not_found.status_code == 404, not_found.text
    assert not_found.headers["x-ratelimit-limit"] == str(API_LIMIT)
    assert not_found.headers["x-ratelimit-remaining"] == str(API_LIMIT - 1)
    assert invalid.status_code == 422, invalid.text
    assert invalid.headers["x-ratelimit-remaining"] == str(API_LIMIT - 2)


def test_rate_limit_api_unauthenticated_not_counted(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    rejected = api.get(USERS_URL, headers=bearer("not-a-token-that-was-issued"))
    accepted = api.get(USERS_URL, headers=tenant.headers)

    assert rejected.status_code == 401
    assert "x-ratelimit-limit" not in rejected.headers
    assert accepted.headers["x-ratelimit-remaining"] == str(API_LIMIT - 1)


def test_rate_limit_api_61st_request_is_429(
    api: httpx.Client, tenant: TenantCredentials, caplog: pytest.LogCaptureFixture
) -> None:
    use_up(api, tenant.headers, API_LIMIT)

    with caplog.at_level(logging.INFO, logger="maizeplus.auth.throttle"):
        rejected = api.get(USERS_URL, headers=tenant.headers)
        other_route = api.get("/api/v1/courses", headers=tenant.headers)

    assert_too_many(rejected, API_LIMIT)
    assert_too_many(other_route, API_LIMIT)
    logged = [r for r in caplog.records if r.getMessage() == "rate_limit.api_exceeded"]
    assert len(logged) == 1
    assert getattr(logged[0], "tenant_id", None) == tenant.tenant_id


def test_rate_limit_api_budget_is_per_token(
    api: httpx.Client, tenant: TenantCredentials, other_tenant: TenantCredentials
) -> None:
    second_token = log_in(api, tenant)["access_token"]
    use_up(api, tenant.headers, API_LIMIT)
    assert_too_many(api.get(USERS_URL, headers=tenant.headers), API_LIMIT)

    same_tenant = api.get(USERS_URL, headers=bearer(second_token))
    other = api.get(USERS_URL, headers=other_tenant.headers)

    assert same_tenant.status_code == 200, same_tenant.text
    assert same_tenant.headers["x-ratelimit-remaining"] == str(API_LIMIT - 1)
    assert other.status_code == 200, other.text
    assert other.headers["x-ratelimit-remaining"] == str(API_LIMIT - 1)


class TestTenantLimits:
    """MAIZEPLUS_RATE_LIMIT_API_TENANT_LIMITS sets the limit of named tenants."""

    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(
            update={"rate_limit_api_tenant_limits": {"small-tenant": 3}}
        )

    def test_rate_limit_tenant_setting_applies(
        self, api: httpx.Client, database_url: str, tenant: TenantCredentials
    ) -> None:
        small = make_tenant(database_url, name="small-tenant")
        for _ in range(3):
            assert api.get(USERS_URL, headers=small.headers).status_code == 200

        rejected = api.get(USERS_URL, headers=small.headers)
        other = api.get(USERS_URL, headers=tenant.headers)

        assert_too_many(rejected, 3)
        assert other.headers["x-ratelimit-limit"] == str(API_LIMIT)


def test_rate_limit_token_11th_attempt_is_429(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    for sent in range(1, TOKEN_LIMIT + 1):
        response = post_token(api, password_fields(tenant))
        assert response.status_code == 200, response.text
        assert response.headers["x-ratelimit-limit"] == str(TOKEN_LIMIT)
        assert response.headers["x-ratelimit-remaining"] == str(TOKEN_LIMIT - sent)
    before = value(scrape(api), VERIFICATIONS)

    rejected = post_token(api, password_fields(tenant))
    verified = value(scrape(api), VERIFICATIONS) - before

    assert_too_many(rejected, TOKEN_LIMIT)
    assert_no_store(rejected)
    assert verified == 0


def test_rate_limit_token_key_is_client_and_username(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    wrong = password_fields(tenant, password="Wrong-Horse-Battery")
    for _ in range(TOKEN_LIMIT):
        assert_oauth_error(post_token(api, wrong), 400, "invalid_grant")
    other_case = password_fields(tenant, username=tenant.username.upper())

    same_user = post_token(api, other_case)
    other_user = post_token(api, password_fields(tenant, username="b@example.com"))

    assert_too_many(same_user, TOKEN_LIMIT)
    assert_oauth_error(other_user, 400, "invalid_grant")


def test_rate_limit_revocation_is_429(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    fields = {
        "token": "unknown",
        "client_id": tenant.client_id,
        "client_secret": tenant.client_secret,
    }
    for _ in range(TOKEN_LIMIT):
        assert post_form(api, REVOCATION_URL, fields).status_code == 200

    rejected = post_form(api, REVOCATION_URL, fields)

    assert_too_many(rejected, TOKEN_LIMIT)
    assert_no_store(rejected)


def client_credentials(tenant: TenantCredentials) -> dict[str, object]:
    return {
        "grant_type": "client_credentials",
        "client_id": tenant.client_id,
        "client_secret": tenant.client_secret,
    }


def forwarded_for(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def test_rate_limit_untrusted_forwarded_for_ignored(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    for sent in range(TOKEN_LIMIT):
        address = f"203.0.113.{sent}"
        response = post_token(
            api, client_credentials(tenant), headers=forwarded_for(address)
        )
        assert response.status_code == 200, response.text

    rejected = post_token(
        api, client_credentials(tenant), headers=forwarded_for("198.51.100.1")
    )

    assert_too_many(rejected, TOKEN_LIMIT)


class TestTrustedProxy:
    """With the loopback as a trusted proxy, X-Forwarded-For names the client."""

    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(
            update={"trusted_proxies": [ip_network("127.0.0.0/8")]}
        )

    def test_rate_limit_keys_on_forwarded_address(
        self, api: httpx.Client, tenant: TenantCredentials
    ) -> None:
        first_client = forwarded_for("198.51.100.1, 203.0.113.9")
        for _ in range(TOKEN_LIMIT):
            response = post_token(api, client_credentials(tenant), headers=first_client)
            assert response.status_code == 200, response.text

        rejected = post_token(api, client_credentials(tenant), headers=first_client)
        # Only the rightmost untrusted entry counts, so a forged entry to its
        # left does not give the same client a new budget.
        forged = post_token(
            api,
            client_credentials(tenant),
            headers=forwarded_for("192.0.2.1, 203.0.113.9"),
        )
        other_client = post_token(
            api,
            client_credentials(tenant),
            headers=forwarded_for("203.0.113.10"),
        )

        assert_too_many(rejected, TOKEN_LIMIT)
        assert_too_many(forged, TOKEN_LIMIT)
        assert other_client.status_code == 200, other_client.text


def test_rate_limit_documented_in_openapi(api: httpx.Client) -> None:
    paths = api.get("/openapi.json").json()["paths"]

    assert "429" in paths["/api/v1/users"]["get"]["responses"]
    assert "429" in paths["/api/v1/import"]["post"]["responses"]
    assert "429" in paths["/oauth/token"]["post"]["responses"]
