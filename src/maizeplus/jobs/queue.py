"""The job queue of PostgreSQL deployments, on procrastinate.

An accepted upload becomes one queue entry, written in the transaction that
records the upload, so neither exists without the other. Every entry of a
tenant carries that tenant's lock. procrastinate starts an entry only when no
other entry with its lock is running or was queued before it. So the jobs of
one tenant apply one at a time in upload order, while other tenants' jobs run
on other workers, or beside it on the same one.
"""

from __future__ import annotations

from typing import Protocol

import procrastinate
from procrastinate import exceptions as queue_errors
from procrastinate import jobs as queue_jobs
from procrastinate.retry import BaseRetryStrategy, RetryDecision
from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.db.engine import POSTGRES_CONNECT_TIMEOUT_SECONDS, resolve_urls

APPLY_IMPORT_TASK = "maizeplus.apply_import"
IMPORT_QUEUE = "imports"


def tenant_lock(tenant_id: int) -> str:
    return f"tenant:{tenant_id}"


class RetryLater(Exception):
    """Raised by a task to put its entry back in the queue, keeping its place."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry in {seconds:g} s")
        self.seconds = seconds


class _RetryOnRequest(BaseRetryStrategy):
    """Retry an entry that raised ``RetryLater``, or was stopped by a shutdown.

    A retried entry keeps its id, so it stays ahead of the tenant's later
    uploads. How many times a job is tried is counted on the import job itself
    (``maizeplus.imports.attempts``), where an attempt killed with its process
    also counts.
    """

    def get_retry_decision(
        self, *, exception: BaseException, job: queue_jobs.Job
    ) -> RetryDecision | None:
        if isinstance(exception, RetryLater):
            return RetryDecision(retry_in={"seconds": int(exception.seconds)})
        if isinstance(exception, queue_errors.JobAborted):
            return RetryDecision(retry_in={"seconds": 0})
        return None


RETRY_STRATEGY = _RetryOnRequest()


def queue_conninfo(database_url: str) -> str:
    """Return the libpq form of a PostgreSQL URL of the settings."""
    url = resolve_urls(database_url).sync
    if url.get_backend_name() != "postgresql":
        raise ValueError("the job queue needs PostgreSQL")
    return str(url.set(drivername="postgresql").render_as_string(hide_password=False))


def build_queue_app(
    database_url: str, *, max_connections: int = 4
) -> procrastinate.App:
    """Create the procrastinate application on the service's database."""
    connector = procrastinate.PsycopgConnector(
        conninfo=queue_conninfo(database_url),
        kwargs={"connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS},
        min_size=1,
        max_size=max_connections,
    )
    return procrastinate.App(connector=connector)


class JobQueue(Protocol):
    """The store in which the API records that an accepted upload waits to be applied."""

    async def enqueue(self, session: AsyncSession, tenant_id: int, job_id: int) -> None:
        """Add the job in the session's transaction."""


class JobTableQueue:
    """For SQLite: the job's row is the whole entry, found by the embedded runner."""

    async def enqueue(self, session: AsyncSession, tenant_id: int, job_id: int) -> None:
        pass


class ProcrastinateQueue:
    """For PostgreSQL: a procrastinate entry, in the transaction of the upload."""

    def __init__(self, database_url: str) -> None:
        # The app is only used to build the entry; it never opens its pool.
        self._app = build_queue_app(database_url)

    async def enqueue(self, session: AsyncSession, tenant_id: int, job_id: int) -> None:
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        deferrer = self._app.configure_task(
            APPLY_IMPORT_TASK,
            queue=IMPORT_QUEUE,
            lock=tenant_lock(tenant_id),
            connection=raw.driver_connection,
        )
        await deferrer.defer_async(tenant_id=tenant_id, job_id=job_id)


def job_queue_for(database_url: str) -> JobQueue:
    if resolve_urls(database_url).is_sqlite:
        return JobTableQueue()
    return ProcrastinateQueue(database_url)
