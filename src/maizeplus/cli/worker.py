"""``maizeplus worker``: an import worker on the PostgreSQL queue."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
from typing import TYPE_CHECKING

import typer

from maizeplus.cli.common import CommandError, current_settings
from maizeplus.db.engine import resolve_urls
from maizeplus.kit.memory import tune_for_imports

if TYPE_CHECKING:
    from maizeplus.jobs.worker import ImportWorker

logger = logging.getLogger(__name__)

# The exit status of a worker that left jobs behind when its grace period ran
# out. Their entries come back once the worker's heartbeat is stale.
EXIT_AFTER_GRACE = 3


def worker(
    concurrency: int | None = typer.Option(
        None,
        min=1,
        help="Jobs applied at once, each of another tenant "
        "(default: MAIZEPLUS_WORKER_CONCURRENCY).",
    ),
    name: str | None = typer.Option(
        None, help="The worker's name in logs (default: host name and process id)."
    ),
    metrics_port: int | None = typer.Option(
        None,
        envvar="MAIZEPLUS_WORKER_METRICS_PORT",
        help="Serve this worker's Prometheus metrics (rows, report deliveries) "
        "on this port of --metrics-host.",
    ),
    metrics_host: str = typer.Option(
        "127.0.0.1",
        envvar="MAIZEPLUS_WORKER_METRICS_HOST",
        help="Address of the metrics listener.",
    ),
) -> None:
    """Apply import jobs from the queue until SIGTERM or SIGINT."""
    # Imported here so that the other commands do not load the import
    # pipeline and procrastinate.
    from prometheus_client import start_http_server

    from maizeplus.jobs.worker import ImportWorker

    settings = current_settings()
    if resolve_urls(settings.database_url).is_sqlite:
        raise CommandError(
            "maizeplus worker needs PostgreSQL in MAIZEPLUS_DATABASE_URL; "
            "on SQLite, maizeplus serve applies the jobs itself"
        )
    if concurrency is not None:
        settings = settings.model_copy(update={"worker_concurrency": concurrency})
    tune_for_imports()
    if metrics_port is not None:
        # The job counts by status are the API's (/metrics): they are read
        # from the database, which every process shares.
        start_http_server(metrics_port, addr=metrics_host)
        logger.info(
            "worker.metrics_served", extra={"host": metrics_host, "port": metrics_port}
        )
    asyncio.run(
        _work(ImportWorker(settings, name), settings.worker_shutdown_grace_seconds)
    )


async def _work(import_worker: ImportWorker, grace_seconds: float) -> None:
    loop = asyncio.get_running_loop()

    def leave_after_grace() -> None:
        logger.error(
            "worker.grace_period_over",
            extra={"worker": import_worker.name, "grace_seconds": grace_seconds},
        )
        logging.shutdown()
        os._exit(EXIT_AFTER_GRACE)

    def on_signal(number: int) -> None:
        logger.info(
            "worker.stopping",
            extra={"worker": import_worker.name, "signal": signal.Signals(number).name},
        )
        import_worker.stop()
        deadline = threading.Timer(grace_seconds, leave_after_grace)
        deadline.daemon = True
        deadline.start()

    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, on_signal, number)
    await import_worker.run()
