"""Queries and writes of the catalogue and progress tables."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, TypeVar

from sqlalchemy import ColumnElement, and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from maizeplus.catalog.models import (
    Certification,
    CertificationProgress,
    Course,
    CourseProgress,
    Topic,
)
from maizeplus.db.base import table_of
from maizeplus.kit.listing_index import Listing, PageStart, page_ids
from maizeplus.users.models import User

CatalogueModel = type[Topic] | type[Course] | type[Certification]
ProgressModel = type[CourseProgress] | type[CertificationProgress]
ProgressState = Literal["started", "completed"]
RowT = TypeVar("RowT", Topic, Course, Certification)

# Ids per IN list: far below SQLite's 32766 bound parameters and psycopg's 65535.
IN_LIST_CHUNK = 1_000


def _chunks(
    values: Sequence[Any], size: int = IN_LIST_CHUNK
) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --- catalogue export ---------------------------------------------------------


def catalogue_listing(model: CatalogueModel, tenant_id: int) -> Listing:
    """The tenant's topics, courses or certifications, as their export lists them."""
    return Listing(
        name=model.__tablename__,
        tenant_id=tenant_id,
        tables=(table_of(model),),
        ids=select(model.id).where(model.tenant_id == tenant_id),
        id_column=model.id,
    )


async def catalogue_page(
    session: AsyncSession, model: type[RowT], listing: Listing, start: PageStart
) -> list[RowT]:
    """Return one page of the tenant's topics, courses or certifications, by id.

    The page's ids come from the primary key index alone, from the page's
    anchor on, and only those rows are read.
    """
    ids = page_ids(listing, start).subquery("page_ids")
    statement = (
        select(model)
        .join_from(
            ids,
            model,
            and_(model.tenant_id == listing.tenant_id, model.id == ids.c.id),
        )
        .order_by(model.id)
    )
    return list((await session.execute(statement)).scalars())


# --- progress export ----------------------------------------------------------


@dataclass(frozen=True)
class ExportedProgress:
    """A progress row, its user's uuid, and its course or certification id."""

    user_uuid: str
    item_id: int
    started_at: datetime
    finished_at: datetime | None
    progress: ProgressState
    score: int | None = None
    score_avg: Decimal | None = None
    attempts: int = 0


def _item_column(model: ProgressModel) -> InstrumentedAttribute[int]:
    if model is CourseProgress:
        return CourseProgress.course_id
    return CertificationProgress.certification_id


def _of_active_users(model: ProgressModel, tenant_id: int) -> ColumnElement[bool]:
    # NOT IN over the few deactivated users (a partial index) stays a hashed
    # filter on the index scan, so the page keeps the index's order.
    deactivated = select(User.id).where(
        User.tenant_id == tenant_id, User.deactivated_at.is_not(None)
    )
    return and_(model.tenant_id == tenant_id, model.user_id.not_in(deactivated))


def progress_listing(model: ProgressModel, tenant_id: int) -> Listing:
    """The progress rows of the tenant's active users, as their export lists them.

    A user's deactivation changes which rows are listed, so the users table's
    version counts too.
    """
    return Listing(
        name=model.__tablename__,
        tenant_id=tenant_id,
        tables=(table_of(model), table_of(User)),
        ids=select(model.id).where(_of_active_users(model, tenant_id)),
        id_column=model.id,
    )


async def progress_page(
    session: AsyncSession, model: ProgressModel, listing: Listing, start: PageStart
) -> list[ExportedProgress]:
    """Return one page of the progress of active users, by id, with each user's uuid."""
    tenant_id = listing.tenant_id
    ids = page_ids(listing, start).subquery("page_ids")
    columns: list[Any] = [
        User.uuid,
        _item_column(model),
        model.started_at,
        model.finished_at,
        model.progress,
    ]
    if model is CertificationProgress:
        columns += [
            CertificationProgress.score,
            CertificationProgress.score_avg,
            CertificationProgress.attempts,
        ]
    statement = (
        select(*columns)
        .select_from(ids)
        .join(model, and_(model.tenant_id == tenant_id, model.id == ids.c.id))
        .join(User, and_(User.tenant_id == tenant_id, User.id == model.user_id))
        .order_by(model.id)
    )
    return [ExportedProgress(*row) for row in await session.execute(statement)]


# --- loading ------------------------------------------------------------------


async def existing_ids(
    session: AsyncSession, model: CatalogueModel, tenant_id: int, ids: Iterable[int]
) -> set[int]:
    """Return which of ``ids`` the tenant's table has."""
    found: set[int] = set()
    for chunk in _chunks(sorted(set(ids))):
        statement = select(model.id).where(
            model.tenant_id == tenant_id, model.id.in_(chunk)
        )
        found.update((await session.execute(statement)).scalars())
    return found


async def insert_rows(
    session: AsyncSession, model: type[Any], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert rows with one executemany; every row carries its tenant and id.

    It inserts into the table, not the ORM class. The ORM's bulk insert sent
    171 INSERT statements for 300 demo users (SQLAlchemy 2.1, SQLite).
    """
    if rows:
        await session.execute(insert(model.__table__), list(rows))


async def update_rows(
    session: AsyncSession, model: type[Any], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Update rows by primary key (``tenant_id``, ``id``) with one executemany."""
    if rows:
        await session.execute(update(model), list(rows))


@dataclass(frozen=True)
class UserByEmail:
    """The id of a user found by email, and whether the user is deactivated."""

    id: int
    deactivated: bool


async def users_by_emails(
    session: AsyncSession, tenant_id: int, emails: Iterable[str]
) -> dict[str, UserByEmail]:
    """Map each of the lower-case ``emails`` that belongs to a user of the tenant."""
    found: dict[str, UserByEmail] = {}
    for chunk in _chunks(sorted(set(emails))):
        statement = select(User.email, User.id, User.deactivated_at).where(
            User.tenant_id == tenant_id, User.email.in_(chunk)
        )
        for email, user_id, deactivated_at in await session.execute(statement):
            found[email] = UserByEmail(
                id=user_id, deactivated=deactivated_at is not None
            )
    return found


async def progress_ids(
    session: AsyncSession, model: ProgressModel, tenant_id: int, user_ids: Iterable[int]
) -> dict[tuple[int, int], int]:
    """Map ``(user_id, item_id)`` to the id of each progress row of these users."""
    item_column = _item_column(model)
    found: dict[tuple[int, int], int] = {}
    for chunk in _chunks(sorted(set(user_ids))):
        statement = select(model.user_id, item_column, model.id).where(
            model.tenant_id == tenant_id, model.user_id.in_(chunk)
        )
        for user_id, item_id, row_id in await session.execute(statement):
            found[(user_id, item_id)] = row_id
    return found
