"""An import worker on the procrastinate queue: ``maizeplus worker``, or inside ``serve``.

Besides applying queue entries, every worker takes over the entries of
workers that died: a running job records a heartbeat every few seconds, and
an entry whose job has not beaten for ``worker_stalled_after_seconds`` goes
back to the queue, where the next free worker resumes it from its checkpoint.
Every worker also delivers the report mails that are due.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta

from procrastinate import exceptions as queue_errors
from procrastinate.worker import Worker
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from maizeplus.db.engine import create_sync_engine
from maizeplus.imports import store
from maizeplus.imports.attempts import CrashOutcome, record_crash
from maizeplus.imports.pipeline import (
    AttemptSuperseded,
    ImportJobProcessor,
    JobInterrupted,
)
from maizeplus.imports.report import deliver_due_reports
from maizeplus.jobs.queue import (
    APPLY_IMPORT_TASK,
    IMPORT_QUEUE,
    RETRY_STRATEGY,
    STALLED_ENTRIES,
    RetryLater,
    build_queue_app,
    stalled_entry_query_params,
)
from maizeplus.kit.clock import utcnow
from maizeplus.settings import Settings

logger = logging.getLogger(__name__)

REPORT_POLL_SECONDS = 2.0
RETRY_AFTER_CRASH_SECONDS = 5
RESTART_SECONDS = 5.0


def default_worker_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class ImportWorker:
    """Applies import entries of the queue, several tenants at once."""

    def __init__(self, settings: Settings, name: str | None = None) -> None:
        self._settings = settings
        self._name = name or default_worker_name()
        self._stopping = threading.Event()
        self._engine = create_sync_engine(settings.database_url)
        self._processor = ImportJobProcessor(
            self._engine, settings, self._stopping.is_set
        )
        self._app = build_queue_app(
            settings.database_url, max_connections=settings.worker_concurrency + 3
        )
        self._app.task(
            name=APPLY_IMPORT_TASK, queue=IMPORT_QUEUE, retry=RETRY_STRATEGY
        )(self._apply_import)
        self._worker: Worker | None = None

    @property
    def name(self) -> str:
        return self._name

    async def run(self) -> None:
        """Work until ``stop``; the chunks in progress are committed first.

        A worker that loses the database starts over once it is back, as often
        as it takes.
        """
        fields = {
            "worker": self._name,
            "concurrency": self._settings.worker_concurrency,
        }
        try:
            while not self._stopping.is_set():
                try:
                    await self._work_once(fields)
                except (queue_errors.ConnectorException, SQLAlchemyError, OSError):
                    logger.warning(
                        "worker.restarting",
                        exc_info=True,
                        extra={**fields, "in_seconds": RESTART_SECONDS},
                    )
                    await asyncio.sleep(RESTART_SECONDS)
        finally:
            self._engine.dispose()
            logger.info("worker.stopped", extra=fields)

    async def _work_once(self, fields: dict[str, object]) -> None:
        async with self._app.open_async():
            self._worker = Worker(
                self._app,
                queues=[IMPORT_QUEUE],
                name=self._name,
                concurrency=self._settings.worker_concurrency,
                install_signal_handlers=False,
                shutdown_graceful_timeout=self._settings.worker_shutdown_grace_seconds,
                update_heartbeat_interval=self._settings.worker_heartbeat_seconds,
                stalled_worker_timeout=self._settings.worker_stalled_after_seconds,
            )
            if self._stopping.is_set():
                return
            logger.info("worker.started", extra=fields)
            chores = [
                asyncio.create_task(
                    self._every(
                        self._stalled_check_seconds, self._retry_stalled_entries
                    )
                ),
                asyncio.create_task(
                    self._every(REPORT_POLL_SECONDS, self._deliver_reports)
                ),
            ]
            try:
                await self._worker.run()  # type: ignore[no-untyped-call]
            finally:
                for chore in chores:
                    chore.cancel()
                for chore in chores:
                    with suppress(asyncio.CancelledError):
                        await chore

    def stop(self) -> None:
        """Ask the worker to stop after the current chunk of every running job.

        Safe to call from any thread, and before ``run`` has started.
        """
        self._stopping.set()
        if self._worker is not None:
            self._worker.stop()  # type: ignore[no-untyped-call]

    @property
    def _stalled_check_seconds(self) -> float:
        return max(1.0, self._settings.worker_stalled_after_seconds / 3)

    def _apply_import(self, tenant_id: int, job_id: int) -> None:
        """The queue task: one attempt at one job, in a thread of the worker."""
        fields = {"tenant_id": tenant_id, "job_id": job_id, "worker": self._name}
        with self._heartbeat(tenant_id, job_id):
            try:
                self._processor.run(tenant_id, job_id)
            except JobInterrupted:
                logger.info("import.interrupted", extra=fields)
                raise RetryLater(0) from None
            except AttemptSuperseded:
                return
            except Exception as error:  # noqa: BLE001 - recorded on the job, then retried
                self._after_crash(tenant_id, job_id, error)

    def _after_crash(self, tenant_id: int, job_id: int, error: Exception) -> None:
        fields = {"tenant_id": tenant_id, "job_id": job_id, "worker": self._name}
        try:
            outcome = record_crash(self._engine, tenant_id, job_id, error)
        except SQLAlchemyError:
            # The database is away: the entry comes back, and the next attempt
            # finds out how the job stands.
            logger.warning("import.crash_not_recorded", exc_info=True, extra=fields)
            outcome = CrashOutcome.RETRY
        if outcome is CrashOutcome.RETRY:
            raise RetryLater(RETRY_AFTER_CRASH_SECONDS) from error

    @contextmanager
    def _heartbeat(self, tenant_id: int, job_id: int) -> Iterator[None]:
        done = threading.Event()
        fields = {"tenant_id": tenant_id, "job_id": job_id, "worker": self._name}

        def beat() -> None:
            while True:
                try:
                    with Session(self._engine) as session:
                        store.beat(session, tenant_id, job_id)
                        session.commit()
                except SQLAlchemyError:
                    logger.warning(
                        "import.heartbeat_failed", exc_info=True, extra=fields
                    )
                if done.wait(self._settings.worker_heartbeat_seconds):
                    return

        beater = threading.Thread(
            target=beat, name=f"heartbeat-{tenant_id}-{job_id}", daemon=True
        )
        beater.start()
        try:
            yield
        finally:
            done.set()
            beater.join()

    async def _every(
        self, seconds: float, chore: Callable[[], Awaitable[None]]
    ) -> None:
        while not self._stopping.is_set():
            try:
                await chore()
            except (SQLAlchemyError, queue_errors.ConnectorException):
                logger.warning(
                    "worker.chore_failed",
                    exc_info=True,
                    extra={"worker": self._name, "chore": chore.__name__},
                )
            await asyncio.sleep(seconds)
        # A stop that came while procrastinate's worker was starting can be
        # lost, because its run() clears earlier stop requests; say it again.
        if self._worker is not None:
            self._worker.stop()  # type: ignore[no-untyped-call]

    async def _retry_stalled_entries(self) -> None:
        cutoff = utcnow() - timedelta(
            seconds=self._settings.worker_stalled_after_seconds
        )
        entry_ids = await asyncio.to_thread(self._stalled_entries, cutoff)
        for entry_id in entry_ids:
            try:
                await self._app.job_manager.retry_job_by_id_async(
                    entry_id, retry_at=datetime.now(UTC)
                )
            except queue_errors.ConnectorException:
                # Another worker retried it first.
                logger.debug(
                    "queue.stalled_entry_taken",
                    extra={"entry_id": entry_id, "worker": self._name},
                )
                continue
            logger.warning(
                "queue.stalled_entry_retried",
                extra={"entry_id": entry_id, "worker": self._name},
            )

    def _stalled_entries(self, cutoff: datetime) -> list[int]:
        with Session(self._engine) as session:
            return list(
                session.execute(
                    STALLED_ENTRIES, stalled_entry_query_params(cutoff)
                ).scalars()
            )

    async def _deliver_reports(self) -> None:
        await asyncio.to_thread(self._deliver_reports_once)

    def _deliver_reports_once(self) -> None:
        with Session(self._engine) as session:
            deliver_due_reports(session, self._settings)


class WorkerThread:
    """The import worker inside an API server process, on PostgreSQL.

    It is the ``JobRunner`` of ``maizeplus serve`` there: a worker like any
    other, whose event loop runs in a thread of its own.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._worker = ImportWorker(settings, name=f"{default_worker_name()}-serve")
        self._thread = threading.Thread(
            target=self._run, name="import-worker", daemon=True
        )

    def _run(self) -> None:
        try:
            asyncio.run(self._worker.run())
        except Exception:
            # The server goes on serving the API; other workers take the jobs.
            logger.exception("worker.crashed", extra={"worker": self._worker.name})

    def start(self) -> None:
        self._thread.start()

    def submit(self, tenant_id: int, job_id: int) -> None:
        pass  # the queue notifies every listening worker itself

    def stop(self) -> None:
        self._worker.stop()
        self._thread.join(self._settings.worker_shutdown_grace_seconds + 5)
