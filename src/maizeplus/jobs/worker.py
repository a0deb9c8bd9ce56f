"""An import worker on the procrastinate queue: ``maizeplus worker``, or inside ``serve``.

Besides applying queue entries, every worker takes over the entries of
workers that died. Each worker records a heartbeat every
``worker_heartbeat_seconds``. The running entries of a worker whose heartbeat
is older than ``worker_stalled_after_seconds`` go back to the queue, where
the next free worker resumes their jobs from the checkpoint.
Every worker also delivers the report mails that are due.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import procrastinate
import psycopg
from procrastinate import exceptions as queue_errors
from procrastinate.jobs import DeleteJobCondition
from procrastinate.jobs import Job as QueueEntry
from procrastinate.worker import Worker
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from maizeplus.db.engine import create_sync_engine
from maizeplus.imports import store
from maizeplus.imports.attempts import CrashOutcome, record_crash
from maizeplus.imports.models import JobStatus
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
    RetryLater,
    build_queue_app,
)
from maizeplus.settings import Settings

logger = logging.getLogger(__name__)

REPORT_POLL_SECONDS = 2.0
RETRY_AFTER_CRASH_SECONDS = 5
RESTART_SECONDS = 5.0
SUPERSEDED_POLL_SECONDS = 1.0
CHORE_STOP_SECONDS = 10.0


def default_worker_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class ImportWorker:
    """Applies import entries of the queue, several tenants at once."""

    def __init__(self, settings: Settings, name: str | None = None) -> None:
        self._settings = settings
        self._name = name or default_worker_name()
        self._stopping = threading.Event()
        # Each running job uses one connection. Report deliveries and the
        # superseded-attempt wait take one more each.
        self._engine = create_sync_engine(
            settings.database_url, pool_size=settings.worker_concurrency + 2
        )
        self._processor = ImportJobProcessor(self._engine, settings, self._should_stop)
        self._app = self._new_queue_app()
        self._worker: Worker | None = None
        # Set when procrastinate's worker begins to shut down, for whatever
        # reason: a stop request, a failed heartbeat or a failed fetch.
        self._queue_stopping = threading.Event()
        self._orphan_candidates: set[int] = set()

    def _new_queue_app(self) -> procrastinate.App:
        # A fresh app for each run, because a pool that failed to open stays
        # closed in the old one.
        app = build_queue_app(
            self._settings.database_url,
            max_connections=self._settings.worker_concurrency + 3,
        )
        app.task(name=APPLY_IMPORT_TASK, queue=IMPORT_QUEUE, retry=RETRY_STRATEGY)(
            self._apply_import
        )
        return app

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
                except (
                    queue_errors.ConnectorException,
                    psycopg.Error,
                    SQLAlchemyError,
                    OSError,
                ):
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
        self._app = self._new_queue_app()
        self._queue_stopping.clear()
        self._orphan_candidates.clear()
        async with self._app.open_async():
            self._worker = _QueueWorker(
                self._queue_stopping.set,
                self._app,
                queues=[IMPORT_QUEUE],
                name=self._name,
                concurrency=self._settings.worker_concurrency,
                install_signal_handlers=False,
                shutdown_graceful_timeout=self._settings.worker_shutdown_grace_seconds,
                update_heartbeat_interval=self._settings.worker_heartbeat_seconds,
                stalled_worker_timeout=self._settings.worker_stalled_after_seconds,
                # The import job keeps the outcome; a finished entry is noise.
                delete_jobs=DeleteJobCondition.SUCCESSFUL,
            )
            if self._stopping.is_set():
                return
            logger.info("worker.started", extra=fields)
            run_ended = asyncio.Event()
            chores = [
                asyncio.create_task(
                    self._every(
                        self._stalled_check_seconds,
                        self._retry_stalled_entries,
                        run_ended,
                    )
                ),
                asyncio.create_task(
                    self._every(REPORT_POLL_SECONDS, self._deliver_reports, run_ended)
                ),
            ]
            try:
                await self._worker.run()  # type: ignore[no-untyped-call]
            finally:
                run_ended.set()
                for chore in chores:
                    chore.cancel()
                # A chore stuck in a database call must not hold up the
                # restart: it is left to end on its own.
                await asyncio.wait(chores, timeout=CHORE_STOP_SECONDS)

    def stop(self) -> None:
        """Ask the worker to stop after the current chunk of every running job.

        Safe to call from any thread, and before ``run`` has started.
        """
        self._stopping.set()
        if self._worker is not None:
            self._worker.stop()  # type: ignore[no-untyped-call]

    def _should_stop(self) -> bool:
        """Tell running jobs to stop after their chunk: on stop(), or when
        procrastinate's worker shuts down, such as after a failed heartbeat."""
        return self._stopping.is_set() or self._queue_stopping.is_set()

    @property
    def _stalled_check_seconds(self) -> float:
        return max(1.0, self._settings.worker_stalled_after_seconds / 3)

    def _apply_import(self, tenant_id: int, job_id: int) -> None:
        """Make one attempt at one job; the queue task, run in a thread of the worker."""
        fields = {"tenant_id": tenant_id, "job_id": job_id, "worker": self._name}
        try:
            self._processor.run(tenant_id, job_id)
        except JobInterrupted:
            logger.info("import.interrupted", extra=fields)
            raise RetryLater(0) from None
        except AttemptSuperseded:
            self._wait_for_newer_attempt(tenant_id, job_id)
        except Exception as error:  # noqa: BLE001 - recorded on the job, then retried
            self._after_crash(tenant_id, job_id, error)

    def _wait_for_newer_attempt(self, tenant_id: int, job_id: int) -> None:
        """Hold the entry, and so the tenant's lock, until the newer attempt ends the job.

        Returning at once would mark the shared entry done and let the tenant's
        next upload start beside the job.
        """
        fields = {"tenant_id": tenant_id, "job_id": job_id, "worker": self._name}
        while not self._should_stop():
            try:
                with Session(self._engine) as session:
                    job = store.load_job(session, tenant_id, job_id)
                    if job is None or job.status != JobStatus.RUNNING:
                        return
            except SQLAlchemyError:
                logger.warning(
                    "import.superseded_wait_failed", exc_info=True, extra=fields
                )
            time.sleep(SUPERSEDED_POLL_SECONDS)
        # Stopping: the entry goes back to the queue rather than ending, so the
        # tenant's lock stays taken until the job has ended.
        raise RetryLater(0)

    def _after_crash(self, tenant_id: int, job_id: int, error: Exception) -> None:
        fields = {"tenant_id": tenant_id, "job_id": job_id, "worker": self._name}
        try:
            outcome = record_crash(self._engine, tenant_id, job_id, error)
        except SQLAlchemyError:
            # The database is unreachable, so the entry goes back to the queue
            # and the next attempt reads the job's state.
            logger.warning("import.crash_not_recorded", exc_info=True, extra=fields)
            outcome = CrashOutcome.RETRY
        if outcome is CrashOutcome.RETRY:
            raise RetryLater(RETRY_AFTER_CRASH_SECONDS) from error

    async def _every(
        self,
        seconds: float,
        chore: Callable[[], Awaitable[None]],
        run_ended: asyncio.Event,
    ) -> None:
        fields = {"worker": self._name, "chore": chore.__name__}
        failing = False
        while not (self._stopping.is_set() or run_ended.is_set()):
            try:
                await chore()
            except (SQLAlchemyError, psycopg.Error, queue_errors.ConnectorException):
                # The first failure in a row is logged with its traceback; the
                # repeats of an outage would only fill the log.
                if failing:
                    logger.debug("worker.chore_failed", exc_info=True, extra=fields)
                else:
                    logger.warning("worker.chore_failed", exc_info=True, extra=fields)
                failing = True
            else:
                if failing:
                    logger.info("worker.chore_recovered", extra=fields)
                failing = False
            await asyncio.sleep(seconds)
        # A stop that came while procrastinate's worker was starting can be
        # lost, because its run() clears earlier stop requests, so repeat it.
        if self._worker is not None:
            self._worker.stop()  # type: ignore[no-untyped-call]

    async def _retry_stalled_entries(self) -> None:
        """Put back in the queue the entries that no live worker is applying.

        Those are the running entries of workers whose heartbeat is older than
        ``worker_stalled_after_seconds`` (a killed process, a lost machine).
        They also include this worker's own entries whose task has ended while
        the database was unreachable, so the queue never recorded the end.
        """
        stalled = await self._app.job_manager.get_stalled_jobs(
            queue=IMPORT_QUEUE,
            task_name=APPLY_IMPORT_TASK,
            seconds_since_heartbeat=self._settings.worker_stalled_after_seconds,
        )
        for entry in [*stalled, *await self._own_orphaned_entries()]:
            await self._retry_entry(entry)

    async def _own_orphaned_entries(self) -> list[QueueEntry]:
        worker = self._worker
        if worker is None or worker.worker_id is None:
            return []
        # NOTE: procrastinate has no public list of a worker's running jobs;
        # _running_jobs is its own bookkeeping, read on its event loop.
        mine = await self._app.job_manager.list_jobs_async(
            queue=IMPORT_QUEUE, status="doing", worker_id=worker.worker_id
        )
        running = {context.job.id for context in worker._running_jobs.values()}
        idle = {job.id for job in mine if job.id is not None and job.id not in running}
        # An entry counts as orphaned when two checks in a row find it idle,
        # so one fetched during the first check's query is not taken for one.
        orphans = [job for job in mine if job.id in idle & self._orphan_candidates]
        self._orphan_candidates = idle
        return orphans

    async def _retry_entry(self, entry: QueueEntry) -> None:
        fields = {
            "entry_id": entry.id,
            "tenant_id": entry.task_kwargs.get("tenant_id"),
            "job_id": entry.task_kwargs.get("job_id"),
            "worker": self._name,
        }
        if entry.id is None:
            return
        try:
            await self._app.job_manager.retry_job_by_id_async(
                entry.id, retry_at=datetime.now(UTC)
            )
        except queue_errors.ConnectorException:
            logger.info("queue.stalled_entry_taken", extra=fields)
            return
        logger.warning("queue.stalled_entry_retried", extra=fields)

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


class _QueueWorker(Worker):
    """procrastinate's worker, telling the import worker when it begins to shut down."""

    def __init__(
        self, on_shutdown: Callable[[], None], *arguments: Any, **options: Any
    ) -> None:
        super().__init__(*arguments, **options)
        self._on_shutdown = on_shutdown

    async def _shutdown(self, side_tasks: list[asyncio.Task[Any]]) -> None:
        # NOTE: _shutdown is procrastinate's own step (pinned release); every
        # way its loop ends passes here before it waits for the running jobs.
        self._on_shutdown()
        await super()._shutdown(side_tasks)
