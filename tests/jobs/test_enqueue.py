"""An accepted upload and its queue entry are written together, or not at all."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import psycopg
import pytest

from maizeplus.settings import Settings
from tests.imports.helpers import numbered_users_file, upload_bytes
from tests.support import LiveServer, TenantCredentials, is_postgres


@pytest.fixture
def api_only(settings: Settings) -> Iterator[httpx.Client]:
    if not is_postgres(settings.database_url):
        pytest.skip("the queue exists on PostgreSQL only")
    server = LiveServer(settings.model_copy(update={"embedded_worker": False})).start()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client
    server.stop()


def _entries(database_url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(database_url) as connection:
        return connection.execute(
            "SELECT task_name, queue_name, lock, args FROM procrastinate_jobs ORDER BY id"
        ).fetchall()


def test_upload_gets_one_entry(
    api_only: httpx.Client, tenant: TenantCredentials, database_url: str
) -> None:
    accepted = upload_bytes(api_only, tenant, numbered_users_file(5))

    lock = f"tenant:{tenant.tenant_id}"
    assert accepted.status_code == 202
    assert _entries(database_url) == [
        (
            "maizeplus.apply_import",
            "imports",
            lock,
            {"tenant_id": tenant.tenant_id, "job_id": 1},
        )
    ]


def test_rejected_upload_gets_no_entry(
    api_only: httpx.Client, tenant: TenantCredentials, database_url: str
) -> None:
    rejected = upload_bytes(api_only, tenant, b"%PDF-1.7\n", name="users.pdf")

    assert rejected.status_code == 422
    assert _entries(database_url) == []
