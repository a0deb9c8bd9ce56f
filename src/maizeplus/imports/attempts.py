"""How many times an import job is tried, and how a job that keeps crashing ends.

An attempt counts from the moment it starts, so an attempt whose process was
killed counts as much as one that raised. The limit applies to the attempts
since the last one that committed a chunk. A file that crashes every reader
it meets thus ends ``failed`` after ``MAX_JOB_ATTEMPTS`` tries, whichever
runner or worker made them, while a job whose attempts each apply rows goes on.
"""

from __future__ import annotations

import enum
import logging

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from maizeplus.imports import store
from maizeplus.imports.models import ImportJob, JobStatus, ReportStatus
from maizeplus.kit.clock import utcnow

logger = logging.getLogger(__name__)

MAX_JOB_ATTEMPTS = 3


class CrashOutcome(enum.Enum):
    """The state of a job after one of its attempts raised."""

    RETRY = "retry"  # attempts are left
    FAILED = "failed"  # this was the last attempt; the job is now failed
    ENDED = "ended"  # the job had already ended, or is gone


def attempts_without_progress(job: ImportJob) -> int:
    return job.attempts - job.progress_attempt


def give_up(session: Session, job: ImportJob) -> None:
    """End a job that used every attempt, in the session's transaction."""
    now = utcnow()
    job.status = JobStatus.FAILED
    job.message = (
        f"The import stopped after {attempts_without_progress(job)} attempts in a "
        "row that applied no rows, because of an internal error; rows up to "
        f"{job.checkpoint_row} were applied. Upload the file again or contact the "
        "operator."
    )
    job.finished_at = now
    job.report_status = ReportStatus.PENDING
    job.report_next_attempt_at = now


def record_crash(
    engine: Engine, tenant_id: int, job_id: int, error: BaseException
) -> CrashOutcome:
    """Log an attempt that raised, and fail the job if it was the last one."""
    with Session(engine) as session:
        job = store.lock_job(session, tenant_id, job_id)
        if job is None:
            return CrashOutcome.ENDED
        fields = {"tenant_id": tenant_id, "job_id": job_id, "attempt": job.attempts}
        if job.status != JobStatus.RUNNING:
            # The job ended before the error (in its last log line, say), so its
            # recorded outcome is kept.
            logger.error("import.failed_after_end", exc_info=error, extra=fields)
            return CrashOutcome.ENDED
        if attempts_without_progress(job) < MAX_JOB_ATTEMPTS:
            logger.warning("import.retry", exc_info=error, extra=fields)
            return CrashOutcome.RETRY
        logger.error("import.crashed", exc_info=error, extra=fields)
        give_up(session, job)
        session.commit()
        return CrashOutcome.FAILED
