"""count data versions for the exports' page cache

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 23:00:00

An export caches its row count and the ids at fixed positions per tenant, so
that a page is found by seeking instead of counting and skipping rows. The
cache holds while, for each table that the export reads, the tenant's data
version and largest id are unchanged. A larger id alone means rows were
appended, and the cache is extended with them; a new version means rows
came or went elsewhere, and it is rebuilt.

Triggers raise the version on deletes, on users whose ``deactivated_at``
changes, and on inserts that do not append: every catalogue insert (their
ids come from the catalogue file), and on PostgreSQL a users or progress
insert with an id below the tenant's largest. SQLite has row triggers only,
which made a million-row import about 2.5 times slower, so there users and
progress rows are taken to append: their ids come from the tenant's counter
(``kit.ids``), one writer at a time.

The triggers run after the statement's own row locks are taken, so a
transaction that writes rows and then the version row cannot deadlock with
another that does the same. The table has no foreign key to the tenant: a
tenant's deletion raises the versions through the cascade's deletes, and its
rows stay, so that a new tenant that SQLite gives the same id starts above
any version cached for it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CATALOGUE_TABLES = ("topics", "courses", "certifications")
# Tables whose ids come from the tenant's counter, so inserts append.
COUNTED_TABLES = ("users", "course_progress", "certification_progress")
LISTED_TABLES = CATALOGUE_TABLES + COUNTED_TABLES

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

-- An insert appends when no row of the tenant that was there before has an
-- id above the lowest inserted one.
CREATE FUNCTION raise_data_versions_unless_appended() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'INSERT INTO data_versions AS stored (tenant_id, table_name, version)
         SELECT inserted.tenant_id, %L, 1
         FROM (SELECT tenant_id, min(id) AS lowest, count(*) AS added
               FROM changed_rows GROUP BY tenant_id) AS inserted
         WHERE (SELECT count(*) FROM %I AS listed
                WHERE listed.tenant_id = inserted.tenant_id
                AND listed.id >= inserted.lowest) > inserted.added
         ON CONFLICT (tenant_id, table_name)
         DO UPDATE SET version = stored.version + 1',
        TG_TABLE_NAME, TG_TABLE_NAME);
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
        inserted = (
            "raise_data_versions_unless_appended"
            if table in COUNTED_TABLES
            else "raise_data_versions"
        )
        for event, relation, function in (
            ("INSERT", "NEW", inserted),
            ("DELETE", "OLD", "raise_data_versions"),
        ):
            op.execute(
                f"CREATE TRIGGER {table}_{event.lower()}_raises_version "
                f"AFTER {event} ON {table} "
                f"REFERENCING {relation} TABLE AS changed_rows "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )
    op.execute(
        "CREATE TRIGGER users_deactivation_raises_version "
        "AFTER UPDATE OF deactivated_at ON users FOR EACH ROW "
        "WHEN (OLD.deactivated_at IS DISTINCT FROM NEW.deactivated_at) "
        "EXECUTE FUNCTION raise_data_version()"
    )


def _create_sqlite_triggers() -> None:
    events = [(table, "DELETE", "OLD") for table in LISTED_TABLES]
    events += [(table, "INSERT", "NEW") for table in CATALOGUE_TABLES]
    for table, event, row in events:
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
        for function in (
            "raise_data_versions",
            "raise_data_versions_unless_appended",
            "raise_data_version",
        ):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.drop_table("data_versions")
