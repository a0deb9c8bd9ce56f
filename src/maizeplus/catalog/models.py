"""Topics, courses, certifications and the progress of users on them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from maizeplus.db.base import Base


class Topic(Base):
    """A subject that groups courses."""

    __tablename__ = "topics"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(255))


class Course(Base):
    """A course of the tenant's catalogue; ``duration`` is in minutes."""

    __tablename__ = "courses"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "topic_id"], ["topics.tenant_id", "topics.id"]
        ),
    )

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    topic_id: Mapped[int | None] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    short_description: Mapped[str | None] = mapped_column(Text)
    duration: Mapped[int | None] = mapped_column(Integer)
    level: Mapped[str | None] = mapped_column(String(50))


class Certification(Base):
    """A certification that users earn by passing its test."""

    __tablename__ = "certifications"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(255))


class CourseProgress(Base):
    """How far one user has come in one course: ``started`` or ``completed``."""

    __tablename__ = "course_progress"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "course_id"),
        ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["users.tenant_id", "users.id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "course_id"],
            ["courses.tenant_id", "courses.id"],
            ondelete="CASCADE",
        ),
        # Covers the export's page of ids, which skips deactivated users.
        Index("ix_course_progress_tenant_id_id_user_id", "tenant_id", "id", "user_id"),
    )

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger)
    course_id: Mapped[int] = mapped_column(BigInteger)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    progress: Mapped[str] = mapped_column(String(20))


class CertificationProgress(Base):
    """One user's attempts at one certification, with the last and average score."""

    __tablename__ = "certification_progress"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "certification_id"),
        ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["users.tenant_id", "users.id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "certification_id"],
            ["certifications.tenant_id", "certifications.id"],
            ondelete="CASCADE",
        ),
        # Covers the export's page of ids, which skips deactivated users.
        Index(
            "ix_certification_progress_tenant_id_id_user_id",
            "tenant_id",
            "id",
            "user_id",
        ),
    )

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger)
    certification_id: Mapped[int] = mapped_column(BigInteger)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    progress: Mapped[str] = mapped_column(String(20))
    score: Mapped[int | None] = mapped_column(Integer)
    score_avg: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
