"""The runner inside the server process: one thread that applies jobs in order."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from maizeplus.db.engine import create_sync_engine
from maizeplus.imports import store
from maizeplus.imports.models import ImportJob, JobStatus, ReportStatus
from maizeplus.imports.pipeline import ImportJobProcessor, JobInterrupted
from maizeplus.imports.report import deliver_report, due_reports
from maizeplus.kit.clock import utcnow
from maizeplus.settings import Settings

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0
MAX_JOB_ATTEMPTS = 3


class EmbeddedRunner:
    """Applies import jobs one at a time, oldest first, and delivers their reports.

    One thread serves every tenant, so each tenant's jobs apply in upload order.
    """

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self._settings = settings
        self._engine = engine or create_sync_engine(settings.database_url)
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
        while not self._stopping.is_set():
            worked = False
            try:
                worked = self._run_next_job() or self._deliver_due_reports()
            except Exception:
                # NOTE: while the database is unreachable, this logs a traceback
                # every POLL_SECONDS, because the loop has no backoff yet.
                logger.exception("runner.turn_failed")
            if not worked:
                self._wake.wait(POLL_SECONDS)
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
        except Exception as error:  # noqa: BLE001 - recorded on the job, then retried
            self._record_crash(tenant_id, job_id, error)
        return True

    def _record_crash(self, tenant_id: int, job_id: int, error: Exception) -> None:
        with Session(self._engine) as session:
            job = store.load_job(session, tenant_id, job_id)
            if job is None:
                return
            fields = {"tenant_id": tenant_id, "job_id": job_id, "attempt": job.attempts}
            if job.status != JobStatus.RUNNING:
                # The job ended before the error (in its last log line, say),
                # so its recorded outcome is kept.
                logger.error("import.failed_after_end", exc_info=error, extra=fields)
                return
            if job.attempts < MAX_JOB_ATTEMPTS:
                logger.warning("import.retry", exc_info=error, extra=fields)
                return
            logger.error("import.crashed", exc_info=error, extra=fields)
            now = utcnow()
            job.status = JobStatus.FAILED
            job.message = (
                f"The import stopped after {job.attempts} attempts because of an internal "
                f"error; rows up to {job.checkpoint_row} were applied. Upload the file again "
                "or contact the operator."
            )
            job.finished_at = now
            job.report_status = ReportStatus.PENDING
            job.report_next_attempt_at = now
            session.commit()

    def _deliver_due_reports(self) -> bool:
        with Session(self._engine) as session:
            jobs = due_reports(session)
            for job in jobs:
                deliver_report(session, job, self._settings)
        return bool(jobs)
