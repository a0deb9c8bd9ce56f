"""count data versions for the exports' page cache

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 23:00:00

An export caches its row count and the ids at fixed positions per tenant, so
that a page is found by seeking instead of counting and skipping rows. The
cache holds while the tenant's data version of each table it reads is the
same. Triggers raise the version whenever rows are inserted or deleted, and
when a user's ``deactivated_at`` changes, whichever code or tool writes.

PostgreSQL raises it once per statement (a COPY of a whole chunk counts as
one) through transition tables; SQLite has row triggers only. The trigger
runs after the statement's own row locks are taken, so a transaction that
writes rows and then takes the version row cannot deadlock with another that
does the same.

The table has no foreign key to the tenant: a tenant's deletion raises the
versions through the cascade's deletes, and its rows stay, so that a new
tenant that SQLite gives the same id starts above any version cached for it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables whose rows the exports list.
LISTED_TABLES = (
    "users",
    "topics",
    "courses",
    "certifications",
    "course_progress",
    "certification_progress",
)

POSTGRES_FUNCTIONS = """
CREATE FUNCTION raise_data_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO data_versions AS stored (tenant_id, table_name, version)
    SELECT DISTINCT tenant_id, TG_TABLE_NAME, 1 FROM changed_rows
    ON CONFLICT (tenant_id, table_name)
    DO UPDATE SET version = stored.version + 1;
    RETURN NULL;
END
$$;

CREATE FUNCTION raise_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO data_versions AS stored (tenant_id, table_name, version)
    VALUES (NEW.tenant_id, TG_TABLE_NAME, 1)
    ON CONFLICT (tenant_id, table_name)
    DO UPDATE SET version = stored.version + 1;
    RETURN NULL;
END
$$;
"""

SQLITE_RAISE = """
    INSERT INTO data_versions (tenant_id, table_name, version)
    VALUES ({row}.tenant_id, '{table}', 1)
    ON CONFLICT (tenant_id, table_name) DO UPDATE SET version = version + 1;
"""


def upgrade() -> None:
    op.create_table(
        "data_versions",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "table_name"),
    )
    if op.get_bind().dialect.name == "postgresql":
        _create_postgres_triggers()
    else:
        _create_sqlite_triggers()


def _create_postgres_triggers() -> None:
    op.execute(POSTGRES_FUNCTIONS)
    for table in LISTED_TABLES:
        for event, relation in (("INSERT", "NEW"), ("DELETE", "OLD")):
            op.execute(
                f"CREATE TRIGGER {table}_{event.lower()}_raises_version "
                f"AFTER {event} ON {table} "
                f"REFERENCING {relation} TABLE AS changed_rows "
                "FOR EACH STATEMENT EXECUTE FUNCTION raise_data_versions()"
            )
    op.execute(
        "CREATE TRIGGER users_deactivation_raises_version "
        "AFTER UPDATE OF deactivated_at ON users FOR EACH ROW "
        "WHEN (OLD.deactivated_at IS DISTINCT FROM NEW.deactivated_at) "
        "EXECUTE FUNCTION raise_data_version()"
    )


def _create_sqlite_triggers() -> None:
    for table in LISTED_TABLES:
        for event, row in (("INSERT", "NEW"), ("DELETE", "OLD")):
            op.execute(
                f"CREATE TRIGGER {table}_{event.lower()}_raises_version "
                f"AFTER {event} ON {table} BEGIN"
                f"{SQLITE_RAISE.format(row=row, table=table)}END"
            )
    op.execute(
        "CREATE TRIGGER users_deactivation_raises_version "
        "AFTER UPDATE OF deactivated_at ON users "
        "WHEN OLD.deactivated_at IS NOT NEW.deactivated_at BEGIN"
        f"{SQLITE_RAISE.format(row='NEW', table='users')}END"
    )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    triggers = [
        (f"{table}_{event}_raises_version", table)
        for table in LISTED_TABLES
        for event in ("insert", "delete")
    ]
    triggers.append(("users_deactivation_raises_version", "users"))
    for trigger, table in triggers:
        on_table = f" ON {table}" if postgres else ""
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}{on_table}")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS raise_data_versions()")
        op.execute("DROP FUNCTION IF EXISTS raise_data_version()")
    op.drop_table("data_versions")
