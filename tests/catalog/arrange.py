"""A tenant with five rows on every export, arranged through the load services."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.catalog.files import read_catalogue_file, read_progress_file
from maizeplus.catalog.loading import load_catalogue, load_progress
from maizeplus.tenants.models import Tenant
from tests.support import run_async
from tests.users.arrange import UserSpec, insert_users, numbered_users

EXPORTS = (
    "/api/v1/users",
    "/api/v1/topics",
    "/api/v1/courses",
    "/api/v1/certifications",
    "/api/v1/progress-courses",
    "/api/v1/progress-certifications",
)


def catalogue_document(
    count: int, first_id: int = 1, prefix: str = ""
) -> dict[str, Any]:
    """Return a catalogue file of ``count`` topics, courses and certifications."""
    ids = range(first_id, first_id + count)
    return {
        "topics": [{"id": i, "name": f"{prefix}Topic {i}"} for i in ids],
        "courses": [
            {
                "id": i,
                "topic_id": first_id,
                "name": f"{prefix}Course {i}",
                "description": f"All about course {i}.",
                "short_description": f"Course {i} in short.",
                "duration": 30 + i,
                "level": "basic",
            }
            for i in ids
        ],
        "certifications": [
            {"id": i, "name": f"{prefix}Certification {i}"} for i in ids
        ],
    }


def load_catalogue_document(
    database_url: str, tenant_id: int, document: dict[str, Any]
) -> None:
    async def work(session: AsyncSession) -> None:
        tenant = await session.get_one(Tenant, tenant_id)
        catalogue = read_catalogue_file(json.dumps(document).encode())
        await load_catalogue(session, tenant, catalogue)

    run_async(database_url, work)


def load_progress_document(
    database_url: str, tenant_id: int, document: dict[str, Any]
) -> None:
    async def work(session: AsyncSession) -> None:
        tenant = await session.get_one(Tenant, tenant_id)
        await load_progress(
            session, tenant, read_progress_file(json.dumps(document).encode())
        )

    run_async(database_url, work)


def progress_document(
    users: list[UserSpec], course_id: int = 1, certification_id: int = 1
) -> dict[str, Any]:
    return {
        "course_progress": [
            {
                "email": user.email,
                "course_id": course_id,
                "started_at": "2022-11-08T18:39:54Z",
                "finished_at": None,
            }
            for user in users
        ],
        "certification_progress": [
            {
                "email": user.email,
                "certification_id": certification_id,
                "started_at": "2024-06-13T14:56:29Z",
                "finished_at": "2024-06-13T15:10:00Z",
                "progress": "completed",
                "score": 100,
                "score_avg": "80",
                "attempts": 2,
            }
            for user in users
        ],
    }


@dataclass(frozen=True)
class FiveOfEach:
    """What ``arrange_five_of_each`` wrote."""

    users: list[UserSpec]


def arrange_five_of_each(
    database_url: str, tenant_id: int, prefix: str = "user"
) -> FiveOfEach:
    """Give the tenant exactly five rows on each of the six exports, in one session."""
    users = numbered_users(5, prefix)
    catalogue = read_catalogue_file(
        json.dumps(catalogue_document(5, prefix=prefix)).encode()
    )
    progress = read_progress_file(json.dumps(progress_document(users)).encode())

    async def work(session: AsyncSession) -> None:
        tenant = await session.get_one(Tenant, tenant_id)
        await insert_users(session, tenant_id, users)
        await load_catalogue(session, tenant, catalogue)
        await load_progress(session, tenant, progress)

    run_async(database_url, work)
    return FiveOfEach(users=users)


def row_key(path: str, row: dict[str, Any]) -> Any:
    """Return what identifies one row of the export at ``path``."""
    if path == "/api/v1/users":
        return row["uuid"]
    if path == "/api/v1/progress-courses":
        return (row["user"]["uuid"], row["course_id"])
    if path == "/api/v1/progress-certifications":
        return (row["user"]["uuid"], row["certification_id"])
    return row["id"]
