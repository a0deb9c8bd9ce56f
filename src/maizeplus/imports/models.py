"""Import jobs, their uploaded files and the errors found in their rows."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from maizeplus.db.base import Base


class JobStatus(enum.StrEnum):
    """The states of an import job, as the status endpoint shows them."""

    RUNNING = "running"  # accepted; waiting for a runner or being applied
    COMPLETED = "completed"  # every row applied
    COMPLETED_WITH_ERRORS = "completed_with_errors"  # some rows reported
    FAILED = "failed"  # the file could not be read, or a blocking fault

    @property
    def is_final(self) -> bool:
        return self is not JobStatus.RUNNING


class ReportStatus(enum.StrEnum):
    """The delivery state of a job's report mail."""

    PENDING = "pending"  # the job has not ended, or a delivery is due
    SENT = "sent"
    SKIPPED = "skipped"  # no SMTP host configured, or no receivers
    FAILED = "failed"  # every attempt failed


class ImportJob(Base):
    """One uploaded file and the progress of applying it."""

    __tablename__ = "import_jobs"
    __table_args__ = (
        UniqueConstraint("tenant_id", "uuid"),
        # The runner looks for work across tenants.
        Index("ix_import_jobs_status_id", "status", "id"),
    )

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    uuid: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(30), default=JobStatus.RUNNING)
    file_name: Mapped[str | None] = mapped_column(String(255))
    file_format: Mapped[str] = mapped_column(String(10))
    file_size: Mapped[int] = mapped_column(BigInteger)
    encoding: Mapped[str | None] = mapped_column(String(20))
    separator: Mapped[str | None] = mapped_column(String(5))
    total_rows: Mapped[int | None] = mapped_column(Integer)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    created_rows: Mapped[int] = mapped_column(Integer, default=0)
    updated_rows: Mapped[int] = mapped_column(Integer, default=0)
    unchanged_rows: Mapped[int] = mapped_column(Integer, default=0)
    failed_rows: Mapped[int] = mapped_column(Integer, default=0)
    created_disabled_rows: Mapped[int] = mapped_column(Integer, default=0)
    # The file row up to which every row has been applied or reported; a job
    # that resumes starts after it.
    checkpoint_row: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The last attempt that committed a chunk. Attempts after it that applied
    # nothing are the ones the attempt limit counts.
    progress_attempt: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0"
    )
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
    report_status: Mapped[str] = mapped_column(String(20), default=ReportStatus.PENDING)
    report_attempts: Mapped[int] = mapped_column(Integer, default=0)
    report_error: Mapped[str | None] = mapped_column(Text)
    report_next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)


class ImportUploadChunk(Base):
    """One piece of an uploaded file, kept in the database so any worker can read it."""

    __tablename__ = "import_upload_chunks"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "job_id"],
            ["import_jobs.tenant_id", "import_jobs.id"],
            ondelete="CASCADE",
        ),
    )

    tenant_id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ImportRowError(Base):
    """Every failing rule of one row, as ``{"column": ["message", ...]}`` JSON."""

    __tablename__ = "import_row_errors"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "job_id"],
            ["import_jobs.tenant_id", "import_jobs.id"],
            ondelete="CASCADE",
        ),
    )

    tenant_id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    row: Mapped[int] = mapped_column(Integer, primary_key=True)
    errors: Mapped[str] = mapped_column(Text)
    validated_at: Mapped[datetime] = mapped_column(DateTime)
