"""The report mail of a finished import job, delivered with retries."""

from __future__ import annotations

import json
import logging
import smtplib
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from maizeplus.imports import store
from maizeplus.imports.models import ImportJob, JobStatus, ReportStatus
from maizeplus.imports.service import row_error_resource
from maizeplus.kit import metrics
from maizeplus.kit.clock import format_resource_time, utcnow
from maizeplus.notify.mail import Attachment, MailServer, build_message, send_messages
from maizeplus.settings import Settings
from maizeplus.tenants.models import ReportReceiver, Tenant

logger = logging.getLogger(__name__)

_OUTCOME = {
    JobStatus.COMPLETED: "completed",
    JobStatus.COMPLETED_WITH_ERRORS: "completed with errors",
    JobStatus.FAILED: "failed",
}


def report_subject(tenant: Tenant, job: ImportJob) -> str:
    outcome = _OUTCOME.get(JobStatus(job.status), job.status)
    return f"[maize.PLUS] Import {job.uuid} for {tenant.name}: {outcome}"


def report_body(tenant: Tenant, job: ImportJob) -> str:
    lines = [
        f"Tenant: {tenant.name}",
        f"Import job: {job.uuid}",
        f"File: {job.file_name or '(no name)'} ({job.file_format}, {job.file_size} bytes)",
        f"Outcome: {_OUTCOME.get(JobStatus(job.status), job.status)}",
        f"Started at: {format_resource_time(job.started_at)}",
        f"Finished at: {format_resource_time(job.finished_at)}",
        "",
        f"Rows in the file: {job.total_rows if job.total_rows is not None else 'unknown'}",
        f"Rows processed: {job.processed_rows}",
        f"Users created: {job.created_rows}",
        f"  of which created disabled (user limit reached): {job.created_disabled_rows}",
        f"Users updated: {job.updated_rows}",
        f"Rows that changed nothing: {job.unchanged_rows}",
        f"Rows reported: {job.failed_rows}",
    ]
    if job.message:
        lines += ["", f"Message: {job.message}"]
    lines += [
        "",
        "The attached errors.json lists every reported row, as the errors endpoint does.",
    ]
    return "\n".join(lines) + "\n"


def errors_attachment(session: Session, job: ImportJob) -> Attachment:
    """Build ``errors.json``: the same rows as the errors endpoint, in row order."""
    entries = [
        row_error_resource(error)
        for error in store.iter_row_errors(session, job.tenant_id, job.id)
    ]
    content = json.dumps(entries, ensure_ascii=False, indent=2).encode("utf-8")
    return Attachment("errors.json", content, "application", "json")


def due_reports(session: Session, limit: int = 10) -> list[ImportJob]:
    """Return finished jobs whose report is pending and due now."""
    now = utcnow()
    return list(
        session.execute(
            select(ImportJob)
            .where(
                ImportJob.report_status == ReportStatus.PENDING,
                ImportJob.status != JobStatus.RUNNING,
                ImportJob.report_next_attempt_at <= now,
            )
            .order_by(ImportJob.report_next_attempt_at)
            .limit(limit)
        ).scalars()
    )


def _receivers(session: Session, tenant_id: int) -> list[str]:
    return list(
        session.execute(
            select(ReportReceiver.email)
            .where(ReportReceiver.tenant_id == tenant_id)
            .order_by(ReportReceiver.email)
        ).scalars()
    )


def delivery_lease(settings: Settings, receivers: int) -> timedelta:
    """Return the longest one delivery can take, since every SMTP reply may take the timeout.

    That is four replies before the first message (connection, EHLO, STARTTLS
    and login), four per message (MAIL, RCPT, DATA and its end), and a minute
    of margin.
    """
    replies = 4 + 4 * receivers
    return timedelta(seconds=settings.smtp_timeout_seconds * replies + 60)


def claim_report(session: Session, job: ImportJob, settings: Settings) -> bool:
    """Reserve a due delivery for this process; False if another process took it.

    The claim moves the next attempt past the time one delivery can take, so
    two workers do not mail the same report at once. A worker that dies while
    sending leaves the report due again once that time has passed.
    """
    due_at = job.report_next_attempt_at
    lease = delivery_lease(settings, len(_receivers(session, job.tenant_id)))
    claimed = session.execute(
        update(ImportJob)
        .where(
            ImportJob.tenant_id == job.tenant_id,
            ImportJob.id == job.id,
            ImportJob.report_status == ReportStatus.PENDING,
            ImportJob.report_next_attempt_at == due_at,
        )
        .values(report_next_attempt_at=utcnow() + lease)
    )
    session.commit()
    return bool(claimed.rowcount)  # type: ignore[attr-defined]


def deliver_due_reports(session: Session, settings: Settings) -> int:
    """Deliver the reports that are due and not claimed elsewhere; return how many."""
    delivered = 0
    for job in due_reports(session):
        if claim_report(session, job, settings):
            deliver_report(session, job, settings)
            delivered += 1
    return delivered


def deliver_report(
    session: Session, job: ImportJob, settings: Settings
) -> ReportStatus:
    """Try once to send the job's report to every receiver; record the outcome."""
    tenant = session.get(Tenant, job.tenant_id)
    assert tenant is not None
    log_fields = {
        "tenant_id": job.tenant_id,
        "job_id": job.id,
        "attempt": job.report_attempts + 1,
    }
    receivers = _receivers(session, job.tenant_id)
    server = MailServer.from_settings(settings)
    if not receivers or server is None:
        reason = (
            "the tenant has no report receivers"
            if not receivers
            else "no SMTP host is set"
        )
        logger.info("import.report_not_sent", extra={**log_fields, "reason": reason})
        return _record(session, job, ReportStatus.SKIPPED, reason)

    attachment = errors_attachment(session, job)
    subject, body = report_subject(tenant, job), report_body(tenant, job)
    messages = [
        build_message(server.sender, receiver, subject, body, (attachment,))
        for receiver in receivers
    ]
    # End the read transaction before contacting the mail server, which can
    # take up to the SMTP timeout. On SQLite the transaction holds the write lock.
    session.commit()
    try:
        send_messages(server, messages)
    except (OSError, smtplib.SMTPException) as error:
        return _record_failure(
            session, job, settings, f"{type(error).__name__}: {error}", log_fields
        )
    logger.info("import.report_sent", extra={**log_fields, "receivers": len(receivers)})
    job.report_attempts += 1
    return _record(session, job, ReportStatus.SENT, None)


def _record(
    session: Session, job: ImportJob, status: ReportStatus, note: str | None
) -> ReportStatus:
    job.report_status = status
    job.report_error = note
    job.report_next_attempt_at = None
    session.commit()
    metrics.record_report(status.value)
    return status


def _record_failure(
    session: Session,
    job: ImportJob,
    settings: Settings,
    reason: str,
    log_fields: dict[str, int],
) -> ReportStatus:
    job.report_attempts += 1
    job.report_error = reason
    if job.report_attempts >= settings.report_max_attempts:
        logger.error("import.report_failed", extra={**log_fields, "error": reason})
        job.report_status = ReportStatus.FAILED
        job.report_next_attempt_at = None
        session.commit()
        metrics.record_report("failed")
        return ReportStatus.FAILED
    delay = settings.report_retry_seconds * 2 ** (job.report_attempts - 1)
    logger.warning(
        "import.report_retry",
        extra={**log_fields, "error": reason, "retry_in_seconds": delay},
    )
    job.report_next_attempt_at = utcnow() + timedelta(seconds=delay)
    session.commit()
    metrics.record_report("retried")
    return ReportStatus.PENDING
