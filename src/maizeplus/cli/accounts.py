"""``maizeplus client`` and ``maizeplus account``: OAuth clients and API accounts."""

from __future__ import annotations

import typer

client_app = typer.Typer(help="Manage OAuth clients.", no_args_is_help=True)
account_app = typer.Typer(help="Manage API accounts.", no_args_is_help=True)
