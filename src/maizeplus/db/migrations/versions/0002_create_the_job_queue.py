"""create the job queue on PostgreSQL

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 19:40:00

The import workers share procrastinate's tables. Their schema is the one of
the installed procrastinate release, which pyproject.toml pins to one minor
version; SQLite has no queue, since its runner lives in the server process.
"""

from collections.abc import Sequence
from typing import Any

from alembic import op
from procrastinate.schema import SchemaManager

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUEUE_PREFIX = "procrastinate"


def _on_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _driver_connection() -> Any:
    connection = op.get_bind().connection.driver_connection
    assert connection is not None
    return connection


def upgrade() -> None:
    if not _on_postgresql():
        return
    # The driver's own execute takes the whole script, with its dollar-quoted
    # function bodies, in the migration's transaction.
    connection = _driver_connection()
    connection.execute(SchemaManager.get_schema())
    # Jobs accepted before the queue existed get their entries, in upload order.
    connection.execute(
        "INSERT INTO procrastinate_jobs (queue_name, task_name, lock, args) "
        "SELECT 'imports', 'maizeplus.apply_import', 'tenant:' || tenant_id, "
        "jsonb_build_object('tenant_id', tenant_id, 'job_id', id) "
        "FROM import_jobs WHERE status = 'running' "
        "ORDER BY created_at, tenant_id, id"
    )


def downgrade() -> None:
    if not _on_postgresql():
        return
    connection = _driver_connection()
    connection.execute(
        "DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, "
        "procrastinate_jobs, procrastinate_workers CASCADE"
    )
    for (signature,) in connection.execute(
        "SELECT oid::regprocedure::text FROM pg_proc WHERE proname LIKE %s",
        (QUEUE_PREFIX + "%",),
    ).fetchall():
        connection.execute(f"DROP FUNCTION IF EXISTS {signature} CASCADE")
    for (name,) in connection.execute(
        "SELECT typname FROM pg_type WHERE typname LIKE %s AND typtype IN ('c', 'e')",
        (QUEUE_PREFIX + "%",),
    ).fetchall():
        connection.execute(f"DROP TYPE IF EXISTS {name} CASCADE")
