"""Migration 0002 gives the jobs accepted before the queue existed their entries."""

from __future__ import annotations

import psycopg
import pytest
from alembic import command

from maizeplus.db.migrate import alembic_config
from tests.support import is_postgres, make_tenant


def _add_running_job(url: str, tenant_id: int, job_id: int) -> None:
    with psycopg.connect(url) as connection:
        connection.execute(
            "INSERT INTO import_jobs (tenant_id, id, uuid, status, file_format, "
            "file_size, processed_rows, created_rows, updated_rows, unchanged_rows, "
            "failed_rows, created_disabled_rows, checkpoint_row, attempts, "
            "created_at, started_at, report_status, report_attempts) "
            "VALUES (%s, %s, gen_random_uuid()::text, 'running', 'csv', 10, "
            "0, 0, 0, 0, 0, 0, 0, 0, now(), now(), 'pending', 0)",
            (tenant_id, job_id),
        )


def test_upgrade_queues_running_jobs(database_url: str) -> None:
    if not is_postgres(database_url):
        pytest.skip("the queue exists on PostgreSQL only")
    tenant = make_tenant(database_url)
    command.downgrade(alembic_config(database_url), "0001")
    _add_running_job(database_url, tenant.tenant_id, 7)
    _add_running_job(database_url, tenant.tenant_id, 8)

    command.upgrade(alembic_config(database_url), "head")

    with psycopg.connect(database_url) as connection:
        entries = connection.execute(
            "SELECT task_name, lock, args, status FROM procrastinate_jobs ORDER BY id"
        ).fetchall()
    lock = f"tenant:{tenant.tenant_id}"
    assert entries == [
        (
            "maizeplus.apply_import",
            lock,
            {"tenant_id": tenant.tenant_id, "job_id": 7},
            "todo",
        ),
        (
            "maizeplus.apply_import",
            lock,
            {"tenant_id": tenant.tenant_id, "job_id": 8},
            "todo",
        ),
    ]
