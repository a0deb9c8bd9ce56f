"""``maizeplus catalog`` and ``maizeplus progress``: catalogue and learning progress."""

from __future__ import annotations

import typer

catalog_app = typer.Typer(help="Load topics, courses and certifications.", no_args_is_help=True)
progress_app = typer.Typer(help="Load learning progress.", no_args_is_help=True)
