"""``maizeplus catalog`` and ``maizeplus progress``: catalogue and learning progress."""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.catalog.files import (
    InvalidFileError,
    read_catalogue_file,
    read_progress_file,
)
from maizeplus.catalog.loading import LoadCounts, load_catalogue, load_progress
from maizeplus.cli.common import JSON_OPTION, CommandError, print_result, run_in_session
from maizeplus.tenants.service import get_tenant

catalog_app = typer.Typer(
    help="Load topics, courses and certifications.", no_args_is_help=True
)
progress_app = typer.Typer(help="Load learning progress.", no_args_is_help=True)

TENANT_OPTION = typer.Option(..., "--tenant", help="Name of the tenant to load into.")
FILE_ARGUMENT = typer.Argument(
    ..., help="Path of the file to load.", show_default=False
)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror}") from error


def _invalid_file(path: Path, error: InvalidFileError) -> CommandError:
    listing = "\n".join(f"  {problem}" for problem in error.problems)
    return CommandError(f"{path}: {error.message}\n{listing}")


def _counts_table(counts: dict[str, LoadCounts]) -> dict[str, int]:
    values: dict[str, int] = {}
    for name, count in counts.items():
        values[f"{name} created"] = count.created
        values[f"{name} updated"] = count.updated
    return values


@catalog_app.command("load")
def load_catalogue_command(
    file: Path = FILE_ARGUMENT,
    tenant: str = TENANT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create or update topics, courses and certifications from a JSON file.

    Rows are matched by id, so loading a file again updates them in place. If
    any entry is invalid, every problem is listed and nothing changes.
    """
    content = _read_bytes(file)

    async def work(session: AsyncSession) -> dict[str, LoadCounts]:
        target = await get_tenant(session, tenant)
        return await load_catalogue(session, target, read_catalogue_file(content))

    try:
        counts = run_in_session(work)
    except InvalidFileError as error:
        raise _invalid_file(file, error) from error
    print_result(_counts_table(counts), as_json, title=f"Catalogue of {tenant}")


@progress_app.command("load")
def load_progress_command(
    file: Path = FILE_ARGUMENT,
    tenant: str = TENANT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create or update course and certification progress from a CSV or JSON file.

    Users are matched by email. If any row is invalid, or names an unknown
    email or id, every problem is listed with its row and nothing changes.
    """
    content = _read_bytes(file)

    async def work(session: AsyncSession) -> dict[str, LoadCounts]:
        target = await get_tenant(session, tenant)
        return await load_progress(session, target, read_progress_file(content))

    try:
        counts = run_in_session(work)
    except InvalidFileError as error:
        raise _invalid_file(file, error) from error
    print_result(_counts_table(counts), as_json, title=f"Progress of {tenant}")
