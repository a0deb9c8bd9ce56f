"""The lockout of API accounts after consecutive wrong passwords."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from maizeplus.auth.models import ApiAccount
from maizeplus.kit.clock import utcnow
from maizeplus.settings import Settings
from tests.auth.oauth import (
    ENCODINGS,
    assert_oauth_error,
    execute,
    fetch_account,
    password_fields,
    post_token,
)
from tests.scrape import scrape, value
from tests.support import TenantCredentials

DEFAULT_MAX_FAILURES = 10
DEFAULT_LOCKOUT = timedelta(minutes=15)
WRONG_PASSWORD = "Wrong-Horse-Battery"


def fail_login(
    api: httpx.Client, tenant: TenantCredentials, times: int
) -> httpx.Response:
    """Send ``times`` wrong passwords and return the last response."""
    response = None
    for _ in range(times):
        response = post_token(api, password_fields(tenant, password=WRONG_PASSWORD))
        assert_oauth_error(response, 400, "invalid_grant")
    assert response is not None
    return response


def end_lock(database_url: str, tenant: TenantCredentials) -> None:
    """Move the account's lock into the past, as if the lock time had passed."""
    execute(
        database_url,
        update(ApiAccount)
        .where(ApiAccount.tenant_id == tenant.tenant_id)
        .values(locked_until=utcnow() - timedelta(seconds=1)),
    )


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_lockout_locked_account_matches_wrong_password(
    api: httpx.Client, database_url: str, tenant: TenantCredentials, encoding: str
) -> None:
    wrong = fail_login(api, tenant, DEFAULT_MAX_FAILURES)
    before = utcnow()

    right = post_token(api, password_fields(tenant), encoding)

    assert right.status_code == wrong.status_code
    assert right.json() == wrong.json()
    assert right.headers["content-type"] == wrong.headers["content-type"]
    account = fetch_account(database_url, tenant)
    assert account.failed_attempts == DEFAULT_MAX_FAILURES
    assert account.locked_until is not None
    assert account.locked_until > before + DEFAULT_LOCKOUT - timedelta(seconds=5)
    assert account.locked_until <= before + DEFAULT_LOCKOUT


def test_lockout_starts_at_tenth_failure(
    api: httpx.Client, database_url: str, tenant: TenantCredentials
) -> None:
    fail_login(api, tenant, DEFAULT_MAX_FAILURES - 1)

    assert fetch_account(database_url, tenant).locked_until is None
    response = post_token(api, password_fields(tenant))
    assert response.status_code == 200, response.text


def test_lockout_success_resets_count(
    api: httpx.Client, database_url: str, tenant: TenantCredentials
) -> None:
    fail_login(api, tenant, DEFAULT_MAX_FAILURES - 1)
    assert post_token(api, password_fields(tenant)).status_code == 200

    assert fetch_account(database_url, tenant).failed_attempts == 0
    fail_login(api, tenant, DEFAULT_MAX_FAILURES - 1)
    response = post_token(api, password_fields(tenant))
    assert response.status_code == 200, response.text


def test_lockout_attempts_while_locked_do_not_extend(
    api: httpx.Client, database_url: str, tenant: TenantCredentials
) -> None:
    fail_login(api, tenant, DEFAULT_MAX_FAILURES)
    locked = fetch_account(database_url, tenant)

    fail_login(api, tenant, 3)
    post_token(api, password_fields(tenant))

    account = fetch_account(database_url, tenant)
    assert account.locked_until == locked.locked_until
    assert account.failed_attempts == DEFAULT_MAX_FAILURES


def test_lockout_ends_after_lock_time(
    api: httpx.Client, database_url: str, tenant: TenantCredentials
) -> None:
    fail_login(api, tenant, DEFAULT_MAX_FAILURES)
    end_lock(database_url, tenant)

    response = post_token(api, password_fields(tenant))

    assert response.status_code == 200, response.text
    account = fetch_account(database_url, tenant)
    assert account.failed_attempts == 0
    assert account.locked_until is None


def test_lockout_expired_lock_restarts_count(
    api: httpx.Client, database_url: str, tenant: TenantCredentials
) -> None:
    fail_login(api, tenant, DEFAULT_MAX_FAILURES)
    end_lock(database_url, tenant)

    fail_login(api, tenant, 1)

    account = fetch_account(database_url, tenant)
    assert account.failed_attempts == 1
    assert account.locked_until is None
    assert post_token(api, password_fields(tenant)).status_code == 200


def test_lockout_concurrent_failures_all_count(
    api: httpx.Client, database_url: str, tenant: TenantCredentials
) -> None:
    fields = password_fields(tenant, password=WRONG_PASSWORD)

    def fail(_: int) -> int:
        return post_token(api, fields).status_code

    with ThreadPoolExecutor(max_workers=5) as pool:
        statuses = list(pool.map(fail, range(DEFAULT_MAX_FAILURES), timeout=60))

    assert statuses == [400] * DEFAULT_MAX_FAILURES
    account = fetch_account(database_url, tenant)
    assert account.failed_attempts == DEFAULT_MAX_FAILURES
    assert account.locked_until is not None


def test_lockout_is_per_account(
    api: httpx.Client, tenant: TenantCredentials, other_tenant: TenantCredentials
) -> None:
    fail_login(api, tenant, DEFAULT_MAX_FAILURES)

    response = post_token(api, password_fields(other_tenant))

    assert response.status_code == 200, response.text


def test_lockout_unknown_user_never_errors(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    fields = password_fields(tenant, username="nobody@example.com")

    for _ in range(DEFAULT_MAX_FAILURES + 2):
        assert_oauth_error(post_token(api, fields), 400, "invalid_grant")


class TestLockoutSettings:
    """The limit and the lock time are settings."""

    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(
            update={"login_max_failures": 3, "login_lockout_seconds": 60}
        )

    def test_lockout_follows_settings(
        self, api: httpx.Client, database_url: str, tenant: TenantCredentials
    ) -> None:
        fail_login(api, tenant, 3)
        before = utcnow()

        response = post_token(api, password_fields(tenant))

        assert_oauth_error(response, 400, "invalid_grant")
        account = fetch_account(database_url, tenant)
        assert account.failed_attempts == 3
        assert account.locked_until is not None
        assert account.locked_until <= before + timedelta(seconds=60)
        assert account.locked_until > before + timedelta(seconds=55)


VERIFICATIONS = "maizeplus_secret_verifications_total"


def test_lockout_every_outcome_verifies_once(
    api: httpx.Client, tenant: TenantCredentials, other_tenant: TenantCredentials
) -> None:
    """Each password grant runs one Argon2 check for the client, one for the password.

    The same count whether the account exists, is locked or took the wrong
    password keeps their response times alike. docs/security.md records them.
    """
    fail_login(api, other_tenant, DEFAULT_MAX_FAILURES)
    requests = {
        "right-password": password_fields(tenant),
        "wrong-password": password_fields(tenant, password=WRONG_PASSWORD),
        "unknown-username": password_fields(tenant, username="nobody@example.com"),
        "locked-right-password": password_fields(other_tenant),
        "locked-wrong-password": password_fields(other_tenant, password=WRONG_PASSWORD),
    }
    verified: dict[str, float] = {}
    for name, fields in requests.items():
        before = value(scrape(api), VERIFICATIONS)
        post_token(api, fields)
        verified[name] = value(scrape(api), VERIFICATIONS) - before

    assert verified["right-password"] == 2
    assert verified["wrong-password"] == 2
    assert verified["unknown-username"] == 2
    assert verified["locked-right-password"] == 2
    assert verified["locked-wrong-password"] == 2
