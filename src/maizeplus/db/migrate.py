"""Bring a database to the newest schema and refresh its reference data."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from maizeplus.db.engine import create_sync_engine
from maizeplus.reference.seed import sync_reference_data

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """Build the Alembic configuration for one database, with no ini file needed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = database_url
    return config


def upgrade_database(database_url: str) -> None:
    """Apply every pending migration, then load languages and countries."""
    command.upgrade(alembic_config(database_url), "head")
    engine = create_sync_engine(database_url, pool=False)
    try:
        with engine.begin() as connection:
            languages, countries = sync_reference_data(connection)
    finally:
        engine.dispose()
    logger.info(
        "database upgraded", extra={"languages": languages, "countries": countries}
    )


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    """Return the newest migration of this version of the code."""
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def current_revision(connection: Connection) -> str | None:
    """Return the migration the database is at; None for a database without a schema."""
    return MigrationContext.configure(connection).get_current_revision()


def schema_is_current(engine: Engine) -> bool:
    """Tell whether the database is at the newest migration."""
    with engine.connect() as connection:
        current = current_revision(connection)
    return current == head_revision()
