"""Plumbing shared by every operator command: the database, output and errors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.db.engine import create_api_engine, create_session_factory
from maizeplus.settings import Settings, get_settings

T = TypeVar("T")

console = Console()
error_console = Console(stderr=True)


class CommandError(Exception):
    """A failure that the operator can fix; printed without a traceback."""


def current_settings() -> Settings:
    return get_settings()


@asynccontextmanager
async def database_session() -> AsyncIterator[AsyncSession]:
    """Open a session on the configured database and commit when the block succeeds."""
    settings = current_settings()
    engine = create_api_engine(settings.database_url, pool_size=1)
    try:
        async with create_session_factory(engine)() as session:
            yield session
            await session.commit()
    finally:
        await engine.dispose()


def run_in_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run one unit of work in a fresh session and return its result."""

    async def runner() -> T:
        async with database_session() as session:
            return await work(session)

    return asyncio.run(runner())


def print_result(
    values: Mapping[str, Any], as_json: bool, title: str | None = None
) -> None:
    """Print a command's result as one JSON object, or as a two-column table."""
    if as_json:
        typer.echo(json.dumps(dict(values), ensure_ascii=False, default=str))
        return
    table = Table(title=title, show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    for key, value in values.items():
        table.add_row(key, "" if value is None else str(value))
    console.print(table)


JSON_OPTION = typer.Option(
    False, "--json", help="Print one JSON object instead of a table."
)
