"""Applying checked catalogue and progress files to a tenant, all or nothing.

The functions only flush: the caller commits, so a file that fails a database
check leaves nothing behind.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.catalog import repository
from maizeplus.catalog.files import (
    CatalogueFile,
    InvalidFileError,
    Problem,
    ProgressEntry,
)
from maizeplus.catalog.models import (
    Certification,
    CertificationProgress,
    Course,
    CourseProgress,
    Topic,
)
from maizeplus.catalog.repository import CatalogueModel, ProgressModel
from maizeplus.kit.ids import allocate_ids, reserve_ids_through
from maizeplus.tenants.models import Tenant

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadCounts:
    """How many rows of one table a load created and how many it updated."""

    created: int = 0
    updated: int = 0


async def _upsert_catalogue(
    session: AsyncSession,
    model: CatalogueModel,
    tenant_id: int,
    rows: Sequence[dict[str, Any]],
) -> LoadCounts:
    if not rows:
        return LoadCounts()
    known = await repository.existing_ids(
        session, model, tenant_id, (row["id"] for row in rows)
    )
    new_rows = [
        {"tenant_id": tenant_id, **row} for row in rows if row["id"] not in known
    ]
    changed_rows = [
        {"tenant_id": tenant_id, **row} for row in rows if row["id"] in known
    ]
    await repository.insert_rows(session, model, new_rows)
    await repository.update_rows(session, model, changed_rows)
    # Ids that the service allocates later must not collide with the file's.
    await reserve_ids_through(
        session, tenant_id, model.__tablename__, max(row["id"] for row in rows)
    )
    return LoadCounts(created=len(new_rows), updated=len(changed_rows))


async def load_catalogue(
    session: AsyncSession, tenant: Tenant, catalogue: CatalogueFile
) -> dict[str, LoadCounts]:
    """Create or update by id every topic, course and certification of the file.

    Rows that the file does not name are kept. Raises ``InvalidFileError`` when a
    course names a topic that is neither in the file nor in the catalogue.
    """
    file_topics = {topic.id for topic in catalogue.topics}
    referenced_topics = {
        course.topic_id for course in catalogue.courses if course.topic_id
    }
    stored_topics = await repository.existing_ids(
        session, Topic, tenant.id, referenced_topics - file_topics
    )
    problems = [
        Problem(f"courses[{index}].topic_id", f"no topic has id {course.topic_id}")
        for index, course in enumerate(catalogue.courses)
        if course.topic_id and course.topic_id not in file_topics | stored_topics
    ]
    if problems:
        raise InvalidFileError(problems)

    counts = {
        "topics": await _upsert_catalogue(
            session,
            Topic,
            tenant.id,
            [topic.model_dump() for topic in catalogue.topics],
        ),
        "courses": await _upsert_catalogue(
            session,
            Course,
            tenant.id,
            [course.model_dump() for course in catalogue.courses],
        ),
        "certifications": await _upsert_catalogue(
            session,
            Certification,
            tenant.id,
            [item.model_dump() for item in catalogue.certifications],
        ),
    }
    await session.flush()
    logger.info(
        "catalogue.loaded",
        extra={
            "tenant_id": tenant.id,
            **{f"{name}_created": value.created for name, value in counts.items()},
            **{f"{name}_updated": value.updated for name, value in counts.items()},
        },
    )
    return counts


def _progress_values(entry: ProgressEntry) -> dict[str, Any]:
    values: dict[str, Any] = {
        "started_at": entry.started_at,
        "finished_at": entry.finished_at,
        "progress": entry.progress,
    }
    if entry.kind == "certification":
        values.update(
            score=entry.score, score_avg=entry.score_avg, attempts=entry.attempts
        )
    return values


async def _upsert_progress(
    session: AsyncSession,
    model: ProgressModel,
    tenant_id: int,
    entries: list[tuple[int, ProgressEntry]],
) -> LoadCounts:
    if not entries:
        return LoadCounts()
    item_field = "course_id" if model is CourseProgress else "certification_id"
    stored = await repository.progress_ids(
        session, model, tenant_id, (user_id for user_id, _ in entries)
    )
    new_entries = [
        (user, entry) for user, entry in entries if (user, entry.item_id) not in stored
    ]
    first_id = await allocate_ids(
        session, tenant_id, model.__tablename__, len(new_entries)
    )
    new_rows = [
        {
            "tenant_id": tenant_id,
            "id": first_id + offset,
            "user_id": user_id,
            item_field: entry.item_id,
            **_progress_values(entry),
        }
        for offset, (user_id, entry) in enumerate(new_entries)
    ]
    changed_rows = [
        {
            "tenant_id": tenant_id,
            "id": stored[(user_id, entry.item_id)],
            **_progress_values(entry),
        }
        for user_id, entry in entries
        if (user_id, entry.item_id) in stored
    ]
    await repository.insert_rows(session, model, new_rows)
    await repository.update_rows(session, model, changed_rows)
    return LoadCounts(created=len(new_rows), updated=len(changed_rows))


async def _check_progress_references(
    session: AsyncSession, tenant_id: int, entries: list[ProgressEntry]
) -> tuple[dict[str, repository.UserByEmail], list[Problem]]:
    users = await repository.users_by_emails(
        session, tenant_id, (e.email for e in entries)
    )
    courses = await repository.existing_ids(
        session, Course, tenant_id, (e.item_id for e in entries if e.kind == "course")
    )
    certifications = await repository.existing_ids(
        session,
        Certification,
        tenant_id,
        (e.item_id for e in entries if e.kind == "certification"),
    )
    problems: list[Problem] = []
    for entry in entries:
        user = users.get(entry.email)
        if user is None:
            problems.append(
                Problem(entry.place, f"no user of the tenant has email {entry.email}")
            )
        elif user.deactivated:
            problems.append(
                Problem(entry.place, f"the user {entry.email} is deactivated")
            )
        known = courses if entry.kind == "course" else certifications
        if entry.item_id not in known:
            problems.append(
                Problem(
                    entry.place,
                    f"no {entry.kind} has id {entry.item_id} in the catalogue",
                )
            )
    return users, problems


async def load_progress(
    session: AsyncSession, tenant: Tenant, entries: list[ProgressEntry]
) -> dict[str, LoadCounts]:
    """Create or update the progress of each (user, course or certification) pair.

    Raises ``InvalidFileError``, and writes nothing, when an entry's email is
    not an active user of the tenant or its id is not in the catalogue. The
    error lists every such entry.
    """
    users, problems = await _check_progress_references(session, tenant.id, entries)
    if problems:
        raise InvalidFileError(problems)

    def of_kind(kind: str) -> list[tuple[int, ProgressEntry]]:
        return [(users[e.email].id, e) for e in entries if e.kind == kind]

    counts = {
        "course_progress": await _upsert_progress(
            session, CourseProgress, tenant.id, of_kind("course")
        ),
        "certification_progress": await _upsert_progress(
            session, CertificationProgress, tenant.id, of_kind("certification")
        ),
    }
    await session.flush()
    logger.info(
        "progress.loaded",
        extra={
            "tenant_id": tenant.id,
            **{f"{name}_created": value.created for name, value in counts.items()},
            **{f"{name}_updated": value.updated for name, value in counts.items()},
        },
    )
    return counts
