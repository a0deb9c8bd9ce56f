"""Tenants and the units that group their users."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from maizeplus.db.base import Base


class Tenant(Base):
    """A company served by the platform, with the options that shape its imports."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    language_code: Mapped[str] = mapped_column(ForeignKey("languages.code"))
    user_limit: Mapped[int | None] = mapped_column(Integer)
    external_ids: Mapped[bool] = mapped_column(Boolean, default=False)
    business_units: Mapped[bool] = mapped_column(Boolean, default=False)
    organizational_units: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ReportReceiver(Base):
    """An address that gets the report mail of every import job of the tenant."""

    __tablename__ = "tenant_report_receivers"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str] = mapped_column(String(320), primary_key=True)


class IdCounter(Base):
    """The next free id of one tenant-owned table, so ids are handed out in blocks."""

    __tablename__ = "id_counters"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_id: Mapped[int] = mapped_column(BigInteger)


class DataVersion(Base):
    """A counter that database triggers raise whenever rows of a tenant's table come or go.

    Exports cache their row counts and page positions per version, so an
    unchanged version means the cache still holds. Triggers (migration 0004)
    raise it on every insert and delete, and on users whose ``deactivated_at``
    changes; they do not react to other updates, which keep row positions.
    The row outlives its tenant on purpose: SQLite may give a deleted
    tenant's id to a new tenant, whose versions must then go on rising
    rather than start again at one that a cache may hold.
    """

    __tablename__ = "data_versions"

    tenant_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class BusinessUnit(Base):
    """A business unit of a tenant, identified by its code."""

    __tablename__ = "business_units"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))


class OrganizationalUnit(Base):
    """An organizational unit of a tenant; units form a tree through their parent."""

    __tablename__ = "organizational_units"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        ForeignKeyConstraint(
            ["tenant_id", "parent_id"],
            ["organizational_units.tenant_id", "organizational_units.id"],
        ),
    )

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    parent_id: Mapped[int | None] = mapped_column(BigInteger)
