"""``maizeplus db``: the schema and its migrations."""

from __future__ import annotations

import typer

from maizeplus.cli.common import console, current_settings
from maizeplus.db.migrate import upgrade_database

app = typer.Typer(help="Manage the database schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Apply every pending migration and refresh languages and countries."""
    settings = current_settings()
    upgrade_database(settings.database_url)
    console.print("The database is up to date.")
