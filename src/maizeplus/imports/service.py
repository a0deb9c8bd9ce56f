"""Accepting uploads and reporting on import jobs, with no HTTP in this module."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any, BinaryIO

from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.auth.dependencies import TenantContext
from maizeplus.imports import store
from maizeplus.imports.errors import ImportJobNotFound, UploadRejected
from maizeplus.imports.models import ImportJob, ImportRowError, JobStatus, ReportStatus
from maizeplus.imports.readers.detect import detect_upload_format
from maizeplus.jobs.queue import JobQueue
from maizeplus.kit.clock import format_resource_time, format_validation_time, utcnow
from maizeplus.kit.ids import allocate_ids
from maizeplus.kit.pagination import PageRequest, read_page

KIB = 1024


def _check_upload_size(size: int, max_bytes: int) -> None:
    if size == 0:
        raise UploadRejected("The file field must not be empty.")
    if size > max_bytes:
        raise UploadRejected(
            f"The file field must not be greater than {max_bytes // KIB} kilobytes."
        )


def upload_size(upload: BinaryIO) -> int:
    upload.seek(0, 2)
    size = upload.tell()
    upload.seek(0)
    return size


async def accept_upload(
    session: AsyncSession,
    tenant: TenantContext,
    upload: BinaryIO,
    file_name: str | None,
    max_bytes: int,
    queue: JobQueue,
) -> ImportJob:
    """Check an uploaded file, store it and queue its job, all in the caller's transaction.

    Raises ``UploadRejected`` when the file is empty, too large, or neither CSV
    nor XLSX; then nothing is stored.
    """
    size = upload_size(upload)
    _check_upload_size(size, max_bytes)
    file_format = detect_upload_format(upload)
    upload.seek(0)

    now = utcnow()
    job = ImportJob(
        tenant_id=tenant.tenant_id,
        id=await allocate_ids(session, tenant.tenant_id, "import_jobs", 1),
        uuid=str(uuid.uuid4()),
        status=JobStatus.RUNNING,
        file_name=(file_name or None) and file_name[:255],
        file_format=file_format.value,
        file_size=size,
        processed_rows=0,
        created_rows=0,
        updated_rows=0,
        unchanged_rows=0,
        failed_rows=0,
        created_disabled_rows=0,
        checkpoint_row=0,
        attempts=0,
        progress_attempt=0,
        created_at=now,
        started_at=now,
        report_status=ReportStatus.PENDING,
        report_attempts=0,
    )
    session.add(job)
    await session.flush()
    await store.store_upload(session, tenant.tenant_id, job.id, upload)
    await queue.enqueue(session, tenant.tenant_id, job.id)
    return job


async def get_job(
    session: AsyncSession, tenant: TenantContext, reference: str
) -> ImportJob:
    """Return the tenant's job by uuid or ``latest``; another tenant's job is not found."""
    job = await store.find_job(session, tenant.tenant_id, reference)
    if job is None:
        raise ImportJobNotFound()
    return job


def percent_done(job: ImportJob) -> int:
    if job.status != JobStatus.RUNNING:
        return 100
    if not job.total_rows:
        return 0
    return min(99, job.processed_rows * 100 // job.total_rows)


def job_resource(job: ImportJob) -> dict[str, Any]:
    """Render a job as the status endpoint shows it."""
    return {
        "uuid": job.uuid,
        "status": job.status,
        "started_at": format_resource_time(job.started_at),
        "finished_at": format_resource_time(job.finished_at),
        "message": job.message,
        "percent_done": percent_done(job),
        "summary": {
            "total_rows": job.total_rows,
            "processed_rows": job.processed_rows,
            "created": job.created_rows,
            "updated": job.updated_rows,
            "unchanged": job.unchanged_rows,
            "failed": job.failed_rows,
            "created_disabled": job.created_disabled_rows,
        },
        "file": {
            "name": job.file_name,
            "format": job.file_format,
            "size": job.file_size,
            "encoding": job.encoding,
            "separator": job.separator,
        },
    }


def row_error_resource(error: ImportRowError) -> dict[str, Any]:
    return {
        "row": error.row,
        "errors": json.loads(error.errors),
        "validated_at": format_validation_time(error.validated_at),
    }


async def page_of_errors(
    session: AsyncSession, tenant: TenantContext, reference: str, page: PageRequest
) -> tuple[ImportJob, int, Sequence[dict[str, Any]]]:
    """Return the job, its error count and one page of its row errors."""
    job = await get_job(session, tenant, reference)

    async def count() -> int:
        return await store.count_row_errors(session, tenant.tenant_id, job.id)

    async def read(offset: int, limit: int) -> list[ImportRowError]:
        rows = await store.page_of_row_errors(
            session, tenant.tenant_id, job.id, offset, limit
        )
        return list(rows)

    result = await read_page(page, count, read)
    return job, result.total, [row_error_resource(row) for row in result.items]
