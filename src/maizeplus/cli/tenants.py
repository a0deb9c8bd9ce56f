"""``maizeplus tenant``: tenants and their options."""

from __future__ import annotations

import typer

app = typer.Typer(help="Manage tenants.", no_args_is_help=True)
