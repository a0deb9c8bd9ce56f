"""The runner inside the server process: one thread that applies jobs in order."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from maizeplus.db.engine import create_sync_engine
from maizeplus.imports.attempts import record_crash
from maizeplus.imports.models import ImportJob, JobStatus
from maizeplus.imports.pipeline import (
    AttemptSuperseded,
    ImportJobProcessor,
    JobInterrupted,
)
from maizeplus.imports.report import deliver_due_reports
from maizeplus.settings import Settings

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0


def _backoff_seconds(failures: int) -> float:
    return min(MAX_BACKOFF_SECONDS, POLL_SECONDS * 2.0 ** (failures - 1))


class EmbeddedRunner:
    """Applies import jobs one at a time, oldest first, and delivers their reports.

    One thread serves every tenant, so each tenant's jobs apply in upload order.
    """

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self._settings = settings
        self._engine = engine or create_sync_engine(
            settings.database_url, sqlite_cache_mib=settings.import_sqlite_cache_mib
        )
        self._owns_engine = engine is None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name="import-runner", daemon=True
        )
        self._processor = ImportJobProcessor(
            self._engine, settings, self._stopping.is_set
        )

    def start(self) -> None:
        self._thread.start()
        logger.info("runner.started")

    def submit(self, tenant_id: int, job_id: int) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout)
        if self._owns_engine:
            self._engine.dispose()
        logger.info("runner.stopped", extra={"clean": not self._thread.is_alive()})

    def _loop(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            worked = False
            try:
                worked = self._run_next_job() or self._deliver_due_reports()
                failures = 0
            except Exception:
                # The database may be unreachable, so wait longer after each
                # failure in a row, and an outage does not flood the log.
                failures += 1
                logger.exception(
                    "runner.turn_failed",
                    extra={"retry_in_seconds": _backoff_seconds(failures)},
                )
            if not worked:
                self._wake.wait(
                    _backoff_seconds(failures) if failures else POLL_SECONDS
                )
                self._wake.clear()

    def _next_job(self) -> tuple[int, int] | None:
        with Session(self._engine) as session:
            row = session.execute(
                select(ImportJob.tenant_id, ImportJob.id)
                .where(ImportJob.status == JobStatus.RUNNING)
                .order_by(ImportJob.created_at, ImportJob.tenant_id, ImportJob.id)
                .limit(1)
            ).first()
        return None if row is None else (row.tenant_id, row.id)

    def _run_next_job(self) -> bool:
        job = self._next_job()
        if job is None:
            return False
        tenant_id, job_id = job
        try:
            self._processor.run(tenant_id, job_id)
        except JobInterrupted:
            logger.info(
                "import.interrupted", extra={"tenant_id": tenant_id, "job_id": job_id}
            )
        except AttemptSuperseded:
            pass  # logged where it was found; the newer attempt goes on
        except Exception as error:  # noqa: BLE001 - recorded on the job, then retried
            record_crash(self._engine, tenant_id, job_id, error)
        return True

    def _deliver_due_reports(self) -> bool:
        with Session(self._engine) as session:
            return deliver_due_reports(session, self._settings) > 0
