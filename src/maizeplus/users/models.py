"""The user (learner) table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from maizeplus.db.base import Base


class User(Base):
    """A learner of one tenant, identified by its lower-case email."""

    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("tenant_id", "email"),
        UniqueConstraint("tenant_id", "uuid"),
        UniqueConstraint("tenant_id", "cid"),
        ForeignKeyConstraint(
            ["tenant_id", "business_unit_id"],
            ["business_units.tenant_id", "business_units.id"],
        ),
        ForeignKeyConstraint(
            ["tenant_id", "organizational_unit_id"],
            ["organizational_units.tenant_id", "organizational_units.id"],
        ),
        Index("ix_users_tenant_id_enabled", "tenant_id", "enabled"),
        # The exports page through active users by key, and hide the progress of
        # deactivated ones; these partial indexes let both read the index alone.
        Index(
            "ix_users_tenant_id_id_active",
            "tenant_id",
            "id",
            postgresql_where=text("deactivated_at IS NULL"),
            sqlite_where=text("deactivated_at IS NULL"),
        ),
        Index(
            "ix_users_tenant_id_id_deactivated",
            "tenant_id",
            "id",
            postgresql_where=text("deactivated_at IS NOT NULL"),
            sqlite_where=text("deactivated_at IS NOT NULL"),
        ),
    )

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    uuid: Mapped[str] = mapped_column(String(36))
    email: Mapped[str] = mapped_column(String(320))
    cid: Mapped[str | None] = mapped_column(String(255))
    first_name: Mapped[str] = mapped_column(String(255))
    last_name: Mapped[str] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(Boolean)
    language_code: Mapped[str | None] = mapped_column(ForeignKey("languages.code"))
    country_code: Mapped[str | None] = mapped_column(ForeignKey("countries.code"))
    business_unit_id: Mapped[int | None] = mapped_column(BigInteger)
    organizational_unit_id: Mapped[int | None] = mapped_column(BigInteger)
    deactivated_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
