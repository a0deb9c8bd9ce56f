"""Export pages found through the cached listing index stay right as rows come and go."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest
import sqlalchemy as sa

from maizeplus.kit.listing_index import ANCHOR_SPACING
from tests.support import TenantCredentials, is_postgres
from tests.users.arrange import add_users, numbered_users

USER_COUNT = 3 * ANCHOR_SPACING + 17


def walk_users(
    api: httpx.Client, tenant: TenantCredentials, limit: int
) -> tuple[list[str], int]:
    """Return the emails of every page in order and ``meta.total`` of the first."""
    emails: list[str] = []
    total = -1
    page = 1
    while True:
        response = api.get(
            "/api/v1/users",
            params={"page": page, "limit": limit},
            headers=tenant.headers,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        total = body["meta"]["total"] if page == 1 else total
        emails += [row["email"] for row in body["data"]]
        if body["links"]["next"] is None:
            return emails, total
        page += 1


def page_emails(
    api: httpx.Client, tenant: TenantCredentials, page: int, limit: int
) -> list[str]:
    response = api.get(
        "/api/v1/users", params={"page": page, "limit": limit}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    return [row["email"] for row in response.json()["data"]]


def active_emails_by_id(database_url: str, tenant_id: int) -> list[str]:
    """Return what OFFSET paging would list, read straight from the table."""
    engine = sa.create_engine(_sync_url(database_url))
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT email FROM users WHERE tenant_id = :tenant "
                "AND deactivated_at IS NULL ORDER BY id"
            ),
            {"tenant": tenant_id},
        )
        emails = [row[0] for row in rows]
    engine.dispose()
    return emails


def run_sql(database_url: str, statement: str, **parameters: Any) -> None:
    engine = sa.create_engine(_sync_url(database_url))
    with engine.begin() as connection:
        connection.execute(sa.text(statement), parameters)
    engine.dispose()


def _sync_url(database_url: str) -> str:
    if is_postgres(database_url):
        assert psycopg  # the driver of the URL below
        return database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    return database_url


@pytest.fixture
def many_users(database_url: str, tenant: TenantCredentials) -> list[str]:
    specs = add_users(database_url, tenant.tenant_id, numbered_users(USER_COUNT))
    return [spec.email for spec in specs]


@pytest.mark.parametrize("limit", [1, 7, 48, 100])
def test_walk_lists_every_user_once(
    api: httpx.Client,
    tenant: TenantCredentials,
    many_users: list[str],
    database_url: str,
    limit: int,
) -> None:
    emails, total = walk_users(api, tenant, limit)

    assert total == USER_COUNT
    assert emails == active_emails_by_id(database_url, tenant.tenant_id)
    assert sorted(emails) == sorted(many_users)


def test_deactivation_shifts_later_pages(
    api: httpx.Client,
    tenant: TenantCredentials,
    many_users: list[str],
    database_url: str,
) -> None:
    before = page_emails(api, tenant, page=4, limit=48)
    response = api.request(
        "DELETE",
        "/api/v1/users",
        data={"emails[]": [many_users[3], many_users[150]]},
        headers=tenant.headers,
    )
    assert response.status_code == 204, response.text

    after = page_emails(api, tenant, page=4, limit=48)
    expected = active_emails_by_id(database_url, tenant.tenant_id)[144:192]

    assert after == expected
    assert after != before
    assert walk_users(api, tenant, 100)[1] == USER_COUNT - 2


def test_rows_written_outside_the_service_count(
    api: httpx.Client,
    tenant: TenantCredentials,
    many_users: list[str],
    database_url: str,
) -> None:
    walk_users(api, tenant, 100)
    run_sql(
        database_url,
        "DELETE FROM users WHERE tenant_id = :tenant AND email = :email",
        tenant=tenant.tenant_id,
        email=many_users[42],
    )

    emails, total = walk_users(api, tenant, 100)

    assert total == USER_COUNT - 1
    assert many_users[42] not in emails
    assert emails == active_emails_by_id(database_url, tenant.tenant_id)


def test_other_tenant_writes_keep_cache(
    api: httpx.Client,
    tenant: TenantCredentials,
    other_tenant: TenantCredentials,
    many_users: list[str],
    database_url: str,
) -> None:
    first_walk = walk_users(api, tenant, 100)
    add_users(database_url, other_tenant.tenant_id, numbered_users(5, "other"))

    assert walk_users(api, tenant, 100) == first_walk
    assert walk_users(api, other_tenant, 100)[1] == 5


def test_appended_users_extend_index(
    api: httpx.Client,
    tenant: TenantCredentials,
    many_users: list[str],
    database_url: str,
) -> None:
    walk_users(api, tenant, 48)
    version_before = users_version(database_url, tenant.tenant_id)
    added = add_users(database_url, tenant.tenant_id, numbered_users(150, "later"))

    emails, total = walk_users(api, tenant, 48)

    assert users_version(database_url, tenant.tenant_id) == version_before
    assert total == USER_COUNT + 150
    assert emails == active_emails_by_id(database_url, tenant.tenant_id)
    assert emails[-150:] == [spec.email for spec in added]


def test_insert_below_largest_id_raises_version(
    tenant: TenantCredentials, many_users: list[str], database_url: str
) -> None:
    if not is_postgres(database_url):
        pytest.skip("SQLite takes every users insert to append")
    before = users_version(database_url, tenant.tenant_id)
    run_sql(
        database_url,
        "INSERT INTO users (tenant_id, id, uuid, email, first_name, last_name, "
        "enabled, created_at, updated_at) SELECT tenant_id, -1, 'low-id', "
        "'low@example.com', 'Low', 'Id', true, created_at, updated_at "
        "FROM users WHERE tenant_id = :tenant AND email = :email",
        tenant=tenant.tenant_id,
        email=many_users[0],
    )

    assert users_version(database_url, tenant.tenant_id) == before + 1


def users_version(database_url: str, tenant_id: int) -> int:
    engine = sa.create_engine(_sync_url(database_url))
    with engine.connect() as connection:
        version = connection.execute(
            sa.text(
                "SELECT version FROM data_versions "
                "WHERE tenant_id = :tenant AND table_name = 'users'"
            ),
            {"tenant": tenant_id},
        ).scalar()
    engine.dispose()
    return int(version or 0)


def test_update_of_other_columns_keeps_version(
    tenant: TenantCredentials, many_users: list[str], database_url: str
) -> None:
    before = users_version(database_url, tenant.tenant_id)
    run_sql(
        database_url,
        "UPDATE users SET first_name = 'Renamed' WHERE tenant_id = :tenant",
        tenant=tenant.tenant_id,
    )
    renamed = users_version(database_url, tenant.tenant_id)
    run_sql(
        database_url,
        "UPDATE users SET deactivated_at = created_at "
        "WHERE tenant_id = :tenant AND email = :email",
        tenant=tenant.tenant_id,
        email=many_users[0],
    )

    assert renamed == before
    assert users_version(database_url, tenant.tenant_id) == before + 1
