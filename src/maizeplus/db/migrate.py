"""Bring a database to the newest schema and refresh its reference data."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

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


def schema_is_current(engine: Engine) -> bool:
    """Tell whether the database is at the newest migration."""
    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return current == head
