"""The ``maizeplus`` command: every operator command under one entry point."""

from __future__ import annotations

import logging
import sys

import typer

from maizeplus.cli import (
    accounts,
    catalog,
    db,
    demo,
    serve,
    tenants,
    tokens,
    users,
    worker,
)
from maizeplus.cli.common import CommandError, error_console
from maizeplus.kit.logs import configure_logging
from maizeplus.settings import get_settings

app = typer.Typer(
    help="Operate the maize.PLUS Open API service. Settings come from MAIZEPLUS_* "
    "environment variables (see the README).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(tenants.app, name="tenant")
app.add_typer(accounts.client_app, name="client")
app.add_typer(accounts.account_app, name="account")
app.add_typer(tokens.app, name="token")
app.add_typer(catalog.catalog_app, name="catalog")
app.add_typer(catalog.progress_app, name="progress")
app.add_typer(users.app, name="users")
app.command("demo")(demo.demo)
app.command("serve")(serve.serve)
app.command("worker")(worker.worker)

_verbose = False


@app.callback()
def configure(
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Show debug logs and the traceback of a failure."
    ),
) -> None:
    global _verbose
    _verbose = verbose
    settings = get_settings()
    configure_logging("DEBUG" if verbose else settings.log_level, settings.log_json)


def _cause_chain(error: BaseException) -> str:
    parts = [str(error) or type(error).__name__]
    cause = error.__cause__ or error.__context__
    while cause is not None:
        parts.append(str(cause) or type(cause).__name__)
        cause = cause.__cause__ or cause.__context__
    return ": ".join(parts)


def main() -> None:
    """Run the command line; a failure prints its cause chain and exits with 1."""
    try:
        app(standalone_mode=False)
    except CommandError as error:
        error_console.print(f"[red]error:[/red] {error}")
        sys.exit(1)
    except (typer.Abort, KeyboardInterrupt):
        error_console.print("aborted")
        sys.exit(130)
    except typer.Exit as stop:
        sys.exit(stop.exit_code)
    except Exception as error:
        import click

        if isinstance(error, click.ClickException):
            error.show()
            sys.exit(error.exit_code)
        if _verbose:
            logging.getLogger(__name__).exception("command failed")
        error_console.print(f"[red]error:[/red] {_cause_chain(error)}")
        sys.exit(1)
