"""``maizeplus users``: operator actions on users."""

from __future__ import annotations

import typer

app = typer.Typer(help="Manage users.", no_args_is_help=True)
