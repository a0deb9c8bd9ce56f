"""Alembic environment: runs the migrations on the URL that the caller configured."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from maizeplus.db.engine import create_sync_engine
from maizeplus.db.models import Base
from maizeplus.settings import get_settings

config = context.config
target_metadata = Base.metadata

# procrastinate owns these tables (migration 0002); autogenerate leaves them be.
QUEUE_TABLE_PREFIX = "procrastinate_"


def _database_url() -> str:
    url = config.attributes.get("database_url") or config.get_main_option(
        "sqlalchemy.url"
    )
    return url or get_settings().database_url


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_sync_engine(_database_url(), pool=False)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _is_ours(name: str | None, type_: str, _parents: object) -> bool:
    return not (type_ == "table" and (name or "").startswith(QUEUE_TABLE_PREFIX))


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        include_name=_is_ours,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run maizeplus db upgrade")
run_migrations_online()
