"""Reading and writing import jobs, their uploads and row errors.

The API uses the asynchronous functions; the runner that applies a job uses the
synchronous ones in its own session.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from maizeplus.db.base import table_of
from maizeplus.imports.models import (
    ImportJob,
    ImportRowError,
    ImportUploadChunk,
    JobStatus,
)
from maizeplus.kit.clock import utcnow

UPLOAD_CHUNK_BYTES = 1024 * 1024


async def find_job(
    session: AsyncSession, tenant_id: int, reference: str
) -> ImportJob | None:
    """Return the tenant's job with this uuid, or its newest job for ``latest``."""
    query = select(ImportJob).where(ImportJob.tenant_id == tenant_id)
    if reference == "latest":
        query = query.order_by(ImportJob.id.desc()).limit(1)
    else:
        query = query.where(ImportJob.uuid == reference.lower())
    return (await session.execute(query)).scalar_one_or_none()


async def store_upload(
    session: AsyncSession, tenant_id: int, job_id: int, source: BinaryIO
) -> int:
    """Copy an uploaded file into the database in 1 MiB pieces; return its size."""
    size = 0
    seq = 0
    while piece := source.read(UPLOAD_CHUNK_BYTES):
        await session.execute(
            insert(ImportUploadChunk).values(
                tenant_id=tenant_id, job_id=job_id, seq=seq, data=piece
            )
        )
        size += len(piece)
        seq += 1
    return size


async def count_row_errors(session: AsyncSession, tenant_id: int, job_id: int) -> int:
    return int(
        (
            await session.execute(
                select(func.count())
                .select_from(ImportRowError)
                .where(
                    ImportRowError.tenant_id == tenant_id,
                    ImportRowError.job_id == job_id,
                )
            )
        ).scalar_one()
    )


async def page_of_row_errors(
    session: AsyncSession, tenant_id: int, job_id: int, offset: int, limit: int
) -> Sequence[ImportRowError]:
    """Return one page of a job's row errors, in ascending row order."""
    rows = await session.execute(
        select(ImportRowError)
        .where(ImportRowError.tenant_id == tenant_id, ImportRowError.job_id == job_id)
        .order_by(ImportRowError.row)
        .offset(offset)
        .limit(limit)
    )
    return rows.scalars().all()


async def count_jobs_by_status(session: AsyncSession) -> dict[str, int]:
    """Count the import jobs of every tenant by status, each status included."""
    counts = {status.value: 0 for status in JobStatus}
    rows = await session.execute(
        select(ImportJob.status, func.count()).group_by(ImportJob.status)
    )
    for status, count in rows:
        counts[status] = int(count)
    return counts


# Synchronous functions for the runner.


def write_upload_to(session: Session, tenant_id: int, job_id: int, target: Path) -> int:
    """Write a stored upload to a local file, one piece at a time; return its size."""
    size = 0
    last_seq = -1
    with target.open("wb") as output:
        while True:
            piece = session.execute(
                select(ImportUploadChunk.seq, ImportUploadChunk.data)
                .where(
                    ImportUploadChunk.tenant_id == tenant_id,
                    ImportUploadChunk.job_id == job_id,
                    ImportUploadChunk.seq > last_seq,
                )
                .order_by(ImportUploadChunk.seq)
                .limit(1)
            ).first()
            if piece is None:
                return size
            last_seq = piece.seq
            output.write(piece.data)
            size += len(piece.data)


def load_job(session: Session, tenant_id: int, job_id: int) -> ImportJob | None:
    return session.get(ImportJob, (tenant_id, job_id))


def lock_job(session: Session, tenant_id: int, job_id: int) -> ImportJob | None:
    """Load a job and hold its row until the transaction ends.

    An attempt that starts this way cannot interleave with a chunk commit of an
    older attempt: one of the two waits for the other.
    """
    return session.get(ImportJob, (tenant_id, job_id), with_for_update=True)


def hold_attempt(session: Session, tenant_id: int, job_id: int, attempt: int) -> bool:
    """Lock the job's row for a write of this attempt; False once a newer one took over.

    Every write of an attempt begins with this statement, so an attempt that a
    stalled-job check replaced cannot apply another chunk.
    """
    result = session.execute(
        update(ImportJob)
        .where(
            ImportJob.tenant_id == tenant_id,
            ImportJob.id == job_id,
            ImportJob.attempts == attempt,
            ImportJob.status == JobStatus.RUNNING,
        )
        .values(heartbeat_at=utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def update_job(session: Session, tenant_id: int, job_id: int, **values: Any) -> None:
    session.execute(
        update(ImportJob)
        .where(ImportJob.tenant_id == tenant_id, ImportJob.id == job_id)
        .values(**values)
    )


def add_row_errors(
    session: Session,
    tenant_id: int,
    job_id: int,
    errors: Sequence[tuple[int, Mapping[str, Sequence[str]]]],
    validated_at: datetime,
) -> None:
    """Record the errors of several rows with one statement."""
    if not errors:
        return
    session.connection().execute(
        insert(table_of(ImportRowError)),
        [
            {
                "tenant_id": tenant_id,
                "job_id": job_id,
                "row": row,
                "errors": json.dumps(row_errors, ensure_ascii=False),
                "validated_at": validated_at,
            }
            for row, row_errors in errors
        ],
    )


def iter_row_errors(
    session: Session, tenant_id: int, job_id: int, batch: int = 5000
) -> Iterator[ImportRowError]:
    """Yield every row error of a job in row order, a batch at a time."""
    last_row = -1
    while True:
        rows = (
            session.execute(
                select(ImportRowError)
                .where(
                    ImportRowError.tenant_id == tenant_id,
                    ImportRowError.job_id == job_id,
                    ImportRowError.row > last_row,
                )
                .order_by(ImportRowError.row)
                .limit(batch)
            )
            .scalars()
            .all()
        )
        if not rows:
            return
        yield from rows
        last_row = rows[-1].row
