"""``maizeplus serve``: the API server with its embedded import runner."""

from __future__ import annotations

import typer

from maizeplus.cli.common import current_settings
from maizeplus.kit.memory import tune_for_imports


def serve(
    host: str = typer.Option(
        "127.0.0.1", envvar="MAIZEPLUS_HOST", help="Address to listen on."
    ),
    port: int = typer.Option(
        8000, envvar="MAIZEPLUS_PORT", help="TCP port to listen on."
    ),
    worker: bool | None = typer.Option(
        None,
        "--worker/--no-worker",
        help="Run import jobs inside this process (--no-worker serves the API only); "
        "by default MAIZEPLUS_EMBEDDED_WORKER decides.",
        show_default=False,
    ),
) -> None:
    """Serve the Open API over HTTP."""
    # Imported here, not at the top, because every other command would pay
    # for loading the application (about half a second).
    import uvicorn

    from maizeplus.app import create_app

    settings = current_settings()
    if worker is not None:
        settings = settings.model_copy(update={"embedded_worker": worker})
    if settings.embedded_worker:
        tune_for_imports()
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_config=None,
        proxy_headers=False,
        server_header=False,
    )
