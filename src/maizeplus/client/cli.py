"""``maizeplus-client``: the Open API from the command line, for people.

Exit status: 0 on success; 1 when the command failed (an API error, no
connection, a missing profile) or ``import --wait`` saw the job fail; 2 when
``import --wait`` saw the job complete with row errors; 3 when ``import
--wait --timeout`` gave up on a running job; 64 for a usage error, such as an
unknown option; 130 when interrupted.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from maizeplus.client.config import (
    TOKEN_FILE_NAME,
    ConfigError,
    FileTokenStore,
    Profile,
    default_config_path,
    environment_values,
    load_profile_values,
    merge_profile,
    save_profile,
)
from maizeplus.client.errors import (
    ApiError,
    MaizeplusError,
    WaitTimeoutError,
    describe_field_errors,
)
from maizeplus.client.models import USER_INCLUDES, ImportJob, JobStatus, Resource
from maizeplus.client.output import (
    ROW_ERROR_COLUMNS,
    CsvTableWriter,
    ExportFile,
    row_error_records,
)
from maizeplus.client.resources import DEFAULT_POLL_INTERVAL_SECONDS, Client

logger = logging.getLogger("maizeplus.client")

EXIT_FAILED = 1
EXIT_COMPLETED_WITH_ERRORS = 2
EXIT_STILL_RUNNING = 3
EXIT_USAGE = 64
EXIT_INTERRUPTED = 130
ALL_RESOURCES = "all"

console = Console()
error_console = Console(stderr=True)

app = typer.Typer(
    help="Call the maize.PLUS Open API: import users, follow import jobs, "
    "delete users and export every resource. Run `maizeplus-client login` first.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class ExportFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"
    XLSX = "xlsx"


class ErrorsFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


@dataclass
class Options:
    """The global options, shared by every command."""

    config_path: Path
    quiet: bool


def _options(context: typer.Context) -> Options:
    options = context.find_object(Options)
    assert options is not None
    return options


@app.callback()
def configure(
    context: typer.Context,
    config: Path | None = typer.Option(
        None,
        "--config",
        help="Profile file written by login. Default: $MAIZEPLUS_CLIENT_CONFIG, "
        "else $XDG_CONFIG_HOME/maizeplus/client.json.",
    ),
    verbose: bool = typer.Option(
        False,
        "--verbose",
        "-v",
        help="Also log token renewals; retries are logged without it.",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Show no progress bars."),
) -> None:
    # The handler goes on the client's logger, not the root, so that a program
    # that runs the app in-process keeps its own logging.
    for handler in list(logger.handlers):
        if isinstance(handler, RichHandler):
            logger.removeHandler(handler)
    logger.addHandler(
        RichHandler(console=error_console, show_time=False, show_path=False)
    )
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    context.obj = Options(config_path=config or default_config_path(), quiet=quiet)


@contextmanager
def _reported_errors() -> Iterator[None]:
    """Print a client error as one message on stderr and exit with 1."""
    try:
        yield
    except ApiError as error:
        error_console.print(
            f"[red]error:[/red] {error}", highlight=False, soft_wrap=True
        )
        if error.errors:
            error_console.print(
                describe_field_errors(error.errors), highlight=False, soft_wrap=True
            )
        raise typer.Exit(EXIT_FAILED) from error
    except MaizeplusError as error:
        error_console.print(
            f"[red]error:[/red] {error}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(EXIT_FAILED) from error


def _profile(options: Options) -> Profile:
    return merge_profile(
        load_profile_values(options.config_path), environment_values(os.environ)
    )


def _client(options: Options) -> Client:
    profile = _profile(options)
    store = FileTokenStore(
        options.config_path.parent / TOKEN_FILE_NAME, profile.token_key()
    )
    return Client(profile.base_url, profile.credentials(), token_store=store)


def _progress(options: Options) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=error_console,
        disable=options.quiet,
    )


# --- login, logout ---------------------------------------------------------


@app.command()
def login(
    context: typer.Context,
    base_url: str | None = typer.Option(
        None, help="Root URL of the server, such as https://maize.example.com."
    ),
    client_id: str | None = typer.Option(None, help="OAuth client id."),
    client_secret: str | None = typer.Option(
        None, help="OAuth client secret. Prompted for when missing."
    ),
    username: str | None = typer.Option(
        None, help="API account, for the password grant."
    ),
    password: str | None = typer.Option(
        None, help="The account's password. Prompted for when missing."
    ),
    client_credentials: bool = typer.Option(
        False,
        "--client-credentials",
        help="Use the client_credentials grant: no username or password.",
    ),
) -> None:
    """Check the credentials by taking a token, then store them in the profile.

    Each value comes from its option, else from the environment
    (MAIZEPLUS_API_BASE_URL, MAIZEPLUS_API_CLIENT_ID, MAIZEPLUS_API_CLIENT_SECRET,
    MAIZEPLUS_API_USERNAME, MAIZEPLUS_API_PASSWORD), else from the current
    profile, else from a prompt. The profile is readable by its owner only.
    """
    options = _options(context)
    with _reported_errors():
        values: dict[str, Any] = {}
        try:
            values.update(load_profile_values(options.config_path))
        except ConfigError as error:
            # login writes a new profile, so a broken one must not stop it.
            logger.warning("ignoring the current profile: %s", error)
        values.update(environment_values(os.environ))
        from_options = {
            "base_url": base_url,
            "client_id": client_id,
            "client_secret": client_secret,
            "username": username,
            "password": password,
        }
        values.update({key: value for key, value in from_options.items() if value})
        if client_credentials:
            values["username"] = None
            values["password"] = None
        _prompt_missing(values, client_credentials)
        profile = merge_profile(values)

        store_path = options.config_path.parent / TOKEN_FILE_NAME
        store = FileTokenStore(store_path, profile.token_key())
        with Client(
            profile.base_url, profile.credentials(), token_store=store
        ) as client:
            token = client.authenticate()
        save_profile(options.config_path, profile)
    grant = profile.credentials().grant_type
    console.print(
        f"Logged in to {profile.base_url} with the {grant} grant; the token "
        f"expires in {token.expires_in} s and is renewed as needed."
    )
    console.print(f"Profile: {options.config_path}")


def _prompt_missing(values: dict[str, Any], client_credentials: bool) -> None:
    if not values.get("base_url"):
        values["base_url"] = typer.prompt("Base URL")
    if not values.get("client_id"):
        values["client_id"] = typer.prompt("Client id")
    if not values.get("client_secret"):
        values["client_secret"] = typer.prompt("Client secret", hide_input=True)
    if client_credentials:
        return
    if not values.get("username"):
        values["username"] = typer.prompt("Username (API account)")
    if not values.get("password"):
        values["password"] = typer.prompt("Password", hide_input=True)


@app.command()
def logout(context: typer.Context) -> None:
    """Delete the profile and the stored token."""
    options = _options(context)
    removed = []
    for path in (options.config_path, options.config_path.parent / TOKEN_FILE_NAME):
        if path.exists():
            path.unlink()
            removed.append(str(path))
    console.print(
        "Removed " + ", ".join(removed) if removed else "No profile to remove."
    )


# --- imports ---------------------------------------------------------------


def _job_table(job: ImportJob) -> Table:
    table = Table(show_header=False, title="Import job")
    table.add_column("field", style="bold")
    table.add_column("value")
    rows: list[tuple[str, Any]] = [
        ("uuid", job.uuid),
        ("status", job.status),
        ("started_at", job.started_at.isoformat()),
        ("finished_at", job.finished_at.isoformat() if job.finished_at else ""),
    ]
    if job.message:
        rows.append(("message", job.message))
    if job.file is not None and job.file.name:
        rows.append(("file", job.file.name))
    if job.summary is not None:
        summary = job.summary
        rows += [
            ("rows", f"{summary.processed_rows} of {summary.total_rows or '?'}"),
            ("created", summary.created),
            ("updated", summary.updated),
            ("unchanged", summary.unchanged),
            ("failed", summary.failed),
            ("created_disabled", summary.created_disabled),
        ]
    for field, value in rows:
        table.add_row(field, str(value))
    return table


def _print_job(job: ImportJob, as_json: bool) -> None:
    if as_json:
        typer.echo(job.model_dump_json(by_alias=True))
    else:
        console.print(_job_table(job))


def _progress_of(job: ImportJob) -> tuple[float | None, float]:
    """Return the (total, completed) of a job's progress bar; total None is unknown."""
    if job.summary is not None and job.summary.total_rows is not None:
        return job.summary.total_rows, job.summary.processed_rows
    if job.percent_done is not None:
        return 100, job.percent_done
    return None, 0


def _watch(
    client: Client,
    job: ImportJob,
    options: Options,
    interval: float,
    timeout: float | None,
) -> ImportJob:
    final = job
    with _progress(options) as progress:
        task = progress.add_task(f"import {job.uuid[:8]}: {job.status}", total=None)
        for status in client.watch_import(job, interval=interval, timeout=timeout):
            total, completed = _progress_of(status)
            progress.update(
                task,
                total=total,
                completed=completed,
                description=f"import {status.uuid[:8]}: {status.status}",
            )
            final = status
    return final


def _exit_status(job: ImportJob) -> int:
    if job.status == JobStatus.COMPLETED:
        return 0
    if job.status == JobStatus.COMPLETED_WITH_ERRORS:
        return EXIT_COMPLETED_WITH_ERRORS
    return EXIT_FAILED


@app.command("import")
def import_file(
    context: typer.Context,
    file: Path = typer.Argument(
        ...,
        exists=True,
        dir_okay=False,
        readable=True,
        help="CSV or XLSX file of users.",
    ),
    wait: bool = typer.Option(
        False,
        "--wait",
        help="Show the job's progress until it ends; the exit status tells how.",
    ),
    interval: float = typer.Option(
        DEFAULT_POLL_INTERVAL_SECONDS,
        min=0.1,
        help="Maximum wait between two status requests, in seconds.",
    ),
    timeout: float | None = typer.Option(
        None, min=0, help="With --wait: stop waiting after this many seconds (exit 3)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the job as JSON."),
) -> None:
    """Upload a file of users to import, and with --wait follow the job to its end.

    Exit status with --wait: 0 completed, 1 failed, 2 completed with errors,
    3 still running after --timeout.
    """
    options = _options(context)
    with _reported_errors(), _client(options) as client:
        job = client.import_users(file)
        if not wait:
            _print_job(job, as_json)
            return
        try:
            job = _watch(client, job, options, interval, timeout)
        except WaitTimeoutError as error:
            _print_job(error.job, as_json)
            error_console.print(
                f"[yellow]{error}[/yellow]; follow it with: "
                f"maizeplus-client status {error.job.uuid}",
                soft_wrap=True,
            )
            raise typer.Exit(EXIT_STILL_RUNNING) from error
    _print_job(job, as_json)
    if job.status in (JobStatus.COMPLETED_WITH_ERRORS, JobStatus.FAILED):
        error_console.print(f"Row errors: maizeplus-client errors {job.uuid}")
    raise typer.Exit(_exit_status(job))


JOB_ARGUMENT = typer.Argument(
    "latest", help="The job's uuid, or latest for the newest job."
)


@app.command()
def status(
    context: typer.Context,
    job: str = JOB_ARGUMENT,
    as_json: bool = typer.Option(False, "--json", help="Print the job as JSON."),
) -> None:
    """Show an import job's status and row counts."""
    options = _options(context)
    with _reported_errors(), _client(options) as client:
        _print_job(client.import_status(job), as_json)


@app.command()
def errors(
    context: typer.Context,
    job: str = JOB_ARGUMENT,
    format: ErrorsFormat = typer.Option(
        ErrorsFormat.TABLE,
        "--format",
        help="table for people; json, the errors as the API returns them; csv, one "
        "line per message.",
    ),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="File to write instead of standard output (json, csv).",
    ),
) -> None:
    """List every row error of an import job, in row order, across all pages."""
    options = _options(context)
    if format == ErrorsFormat.TABLE and output is not None:
        raise typer.BadParameter(
            "--output needs --format json or csv", param_hint="--output"
        )
    with _reported_errors(), _client(options) as client:
        items = (
            error.model_dump(mode="json") for error in client.iter_import_errors(job)
        )
        if format == ErrorsFormat.TABLE:
            count = _print_errors_table(items)
        else:
            count = _write_errors(items, format, output)
    if count == 0:
        error_console.print("The job has no row errors.")


def _print_errors_table(items: Iterable[dict[str, Any]]) -> int:
    table = Table("row", "column", "message")
    count = 0
    for record in row_error_records(items):
        table.add_row(str(record["row"]), record["column"], record["message"])
        count += 1
    if count:
        console.print(table)
    return count


@contextmanager
def _text_output(output: Path | None) -> Iterator[IO[str]]:
    """Yield standard output, or a file that gets its name only once it is complete."""
    if output is None:
        yield sys.stdout
        return
    partial = output.with_name(f".{output.name}.partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as stream:
            yield stream
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)


def _write_errors(
    items: Iterable[dict[str, Any]], format: ErrorsFormat, output: Path | None
) -> int:
    """Stream the row errors as a JSON array (one error a line) or as CSV; return the count."""
    count = 0
    with _text_output(output) as stream:
        if format == ErrorsFormat.JSON:
            stream.write("[")
            for item in items:
                stream.write(",\n" if count else "\n")
                stream.write(json.dumps(item, ensure_ascii=False))
                count += 1
            stream.write("\n]\n")
        else:
            writer = CsvTableWriter(stream, ROW_ERROR_COLUMNS)
            for item in items:
                for record in row_error_records([item]):
                    writer.write(record)
                count += 1
    return count


# --- users -----------------------------------------------------------------


def _confirm(question: str) -> bool:
    """Ask a yes/no question; an end of input (a script without --yes) means no."""
    try:
        return typer.confirm(question, default=False)
    except typer.Abort:
        return False


def _emails_from_file(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    return [
        line.strip()
        for line in lines
        if line.strip() and not line.lstrip().startswith("#")
    ]


@app.command()
def delete(
    context: typer.Context,
    emails: list[str] | None = typer.Argument(
        None, help="Emails of the users to deactivate."
    ),
    from_file: Path | None = typer.Option(
        None,
        "--from-file",
        exists=True,
        dir_okay=False,
        help="File with one email per line; blank lines and lines starting with # are skipped.",
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Deactivate users by email: all of them, or none if any address is unknown."""
    options = _options(context)
    addresses = list(emails or [])
    if from_file is not None:
        addresses += _emails_from_file(from_file)
    if not addresses:
        raise typer.BadParameter(
            "give at least one email, or --from-file", param_hint="EMAILS"
        )
    with _reported_errors(), _client(options) as client:
        if not yes:
            listed = ", ".join(addresses[:10])
            more = f" and {len(addresses) - 10} more" if len(addresses) > 10 else ""
            question = f"Deactivate {len(addresses)} user(s) on {client.base_url}: {listed}{more}?"
            if not _confirm(question):
                error_console.print(
                    "Cancelled; no user was deactivated. Pass --yes to skip the question."
                )
                raise typer.Exit(EXIT_FAILED)
        client.delete_users(addresses)
    console.print(f"Deactivated {len(addresses)} user(s).")


# --- exports ---------------------------------------------------------------


def _resources(names: Sequence[str]) -> list[Resource]:
    chosen: list[Resource] = []
    for name in names:
        if name == ALL_RESOURCES:
            chosen += [resource for resource in Resource if resource not in chosen]
            continue
        try:
            resource = Resource(name)
        except ValueError:
            allowed = ", ".join(
                [*(resource.value for resource in Resource), ALL_RESOURCES]
            )
            raise typer.BadParameter(
                f"unknown resource {name!r}; use one of {allowed}"
            ) from None
        if resource not in chosen:
            chosen.append(resource)
    return chosen


def _includes(values: Sequence[str]) -> list[str]:
    names = [
        name.strip() for value in values for name in value.split(",") if name.strip()
    ]
    return names


def _export_one(
    client: Client,
    resource: Resource,
    target: ExportFile,
    progress: Progress,
    limit: int,
    include: Sequence[str],
) -> None:
    task = progress.add_task(resource.value, total=None)
    try:
        for body in client.iter_raw_pages(resource, limit=limit, include=include):
            items = body["data"]
            total = body.get("meta", {}).get("total")
            progress.update(task, total=total)
            target.write_items(items)
            progress.advance(task, len(items))
        target.commit()
    except BaseException:
        target.discard()
        raise


@app.command()
def export(
    context: typer.Context,
    resources: list[str] = typer.Argument(
        ...,
        help="users, topics, courses, progress-courses, certifications, "
        "progress-certifications, or all.",
    ),
    include: list[str] | None = typer.Option(
        None,
        "--include",
        "-i",
        help="Users' relations to add, repeated or comma-separated: "
        + ", ".join(USER_INCLUDES)
        + ".",
    ),
    format: ExportFormat = typer.Option(
        ExportFormat.CSV, "--format", help="Output format."
    ),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="File to write; with several resources, a folder that gets one "
        "RESOURCE.FORMAT file each. Default: standard output for one resource "
        "(CSV and JSONL), the current folder for several.",
    ),
    limit: int = typer.Option(
        100, min=1, max=100, help="Rows per request, from 1 to 100."
    ),
    delimiter: str = typer.Option(",", help="CSV field separator, such as ';'."),
    bom: bool = typer.Option(
        False, "--bom", help="Start CSV files with a UTF-8 byte order mark, for Excel."
    ),
) -> None:
    """Export every row of one or more resources, across all pages.

    CSV and XLSX cells that a spreadsheet would run as formulas are
    neutralised; JSONL keeps the values exactly as the server sent them.
    """
    options = _options(context)
    chosen = _resources(resources)
    includes = _includes(include or [])
    if len(delimiter) != 1:
        raise typer.BadParameter(
            "the delimiter must be one character", param_hint="--delimiter"
        )
    folder: Path | None = None
    if len(chosen) > 1:
        folder = output or Path.cwd()
        folder.mkdir(parents=True, exist_ok=True)
    elif format == ExportFormat.XLSX and output is None:
        raise typer.BadParameter("XLSX needs --output FILE", param_hint="--output")

    with _reported_errors(), _client(options) as client, _progress(options) as progress:
        for resource in chosen:
            path = (
                output
                if folder is None
                else folder / f"{resource.value}.{format.value}"
            )
            resource_includes = includes if resource == Resource.USERS else []
            target = ExportFile(
                resource,
                format.value,
                path,
                stream=sys.stdout if path is None else None,
                include=resource_includes,
                delimiter=delimiter,
                bom=bom,
            )
            _export_one(client, resource, target, progress, limit, resource_includes)
            if path is not None:
                progress.console.print(
                    f"{resource.value}: {target.rows} rows in {path}"
                )


def _is_usage_error(error: BaseException) -> bool:
    # typer 0.29 and later carry their own copy of click with their own
    # exception classes, so the class is matched by name to cover both.
    return any(kind.__name__ == "UsageError" for kind in type(error).__mro__)


def main() -> None:
    """Run the command line, mapping usage errors to exit status 64."""
    try:
        status_code = app(standalone_mode=False)
    except (typer.Abort, KeyboardInterrupt):
        error_console.print("interrupted")
        sys.exit(EXIT_INTERRUPTED)
    except Exception as error:
        show = getattr(error, "show", None)
        if not callable(show):
            raise
        show()
        if _is_usage_error(error):
            sys.exit(EXIT_USAGE)
        sys.exit(int(getattr(error, "exit_code", EXIT_FAILED)))
    sys.exit(status_code if isinstance(status_code, int) else 0)
