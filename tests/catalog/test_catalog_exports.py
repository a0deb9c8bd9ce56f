"""The catalogue and progress exports: the fields and formats of each row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.catalog.files import InvalidFileError
from maizeplus.users.models import User
from tests.catalog.arrange import (
    catalogue_document,
    load_catalogue_document,
    load_progress_document,
    progress_document,
)
from tests.support import TenantCredentials, run_async
from tests.users.arrange import UserSpec, add_users


def rows_of(
    api: httpx.Client, path: str, tenant: TenantCredentials
) -> list[dict[str, Any]]:
    response = api.get(f"{path}?limit=100", headers=tenant.headers)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["data"]
    return rows


def test_topics_rows(
    api: httpx.Client, database_url: str, tenant: TenantCredentials
) -> None:
    load_catalogue_document(database_url, tenant.tenant_id, catalogue_document(2))

    assert rows_of(api, "/api/v1/topics", tenant) == [
        {"id": 1, "name": "Topic 1"},
        {"id": 2, "name": "Topic 2"},
    ]


def test_courses_rows(
    api: httpx.Client, database_url: str, tenant: TenantCredentials
) -> None:
    document = {
        "topics": [{"id": 2, "name": "perferendis"}],
        "courses": [
            {
                "id": 1,
                "topic_id": 2,
                "name": "accusamus",
                "description": "Sed consectetur et ipsa officiis.",
                "short_description": "Nam quibusdam dolore.",
                "duration": 99,
                "level": "basic",
            },
            {"id": 7, "name": "Bare course"},
        ],
    }
    load_catalogue_document(database_url, tenant.tenant_id, document)

    rows = rows_of(api, "/api/v1/courses", tenant)

    assert list(rows[0]) == [
        "id",
        "duration",
        "level",
        "name",
        "description",
        "short_description",
        "topic_id",
    ]
    assert rows == [
        {
            "id": 1,
            "duration": 99,
            "level": "basic",
            "name": "accusamus",
            "description": "Sed consectetur et ipsa officiis.",
            "short_description": "Nam quibusdam dolore.",
            "topic_id": 2,
        },
        {
            "id": 7,
            "duration": None,
            "level": None,
            "name": "Bare course",
            "description": None,
            "short_description": None,
            "topic_id": None,
        },
    ]


def test_certifications_rows(
    api: httpx.Client, database_url: str, tenant: TenantCredentials
) -> None:
    document = {"certifications": [{"id": 3, "name": "Are you a Data Expert?"}]}
    load_catalogue_document(database_url, tenant.tenant_id, document)

    assert rows_of(api, "/api/v1/certifications", tenant) == [
        {"id": 3, "name": "Are you a Data Expert?"}
    ]


def arrange_progress(database_url: str, tenant: TenantCredentials) -> list[UserSpec]:
    users = add_users(
        database_url, tenant.tenant_id, [UserSpec(email="anna@example.com")]
    )
    load_catalogue_document(database_url, tenant.tenant_id, catalogue_document(2))
    load_progress_document(
        database_url,
        tenant.tenant_id,
        {
            "course_progress": [
                {
                    "email": "anna@example.com",
                    "course_id": 1,
                    "started_at": "2022-11-09T14:46:03Z",
                },
                {
                    "email": "anna@example.com",
                    "course_id": 2,
                    "started_at": "2022-11-09 14:46:03",
                    "finished_at": "2022-11-10T10:00:00+01:00",
                },
            ],
            "certification_progress": [
                {
                    "email": "anna@example.com",
                    "certification_id": 1,
                    "started_at": "2024-06-13T14:56:29Z",
                    "finished_at": "2024-06-13T14:56:29Z",
                    "score": 100,
                    "score_avg": 80,
                    "attempts": 2,
                },
                {
                    "email": "anna@example.com",
                    "certification_id": 2,
                    "started_at": "2024-06-13T14:56:29Z",
                    "score": 40,
                    "score_avg": "42.5",
                    "attempts": 1,
                },
            ],
        },
    )
    return users


def test_course_progress_rows(
    api: httpx.Client, database_url: str, tenant: TenantCredentials
) -> None:
    anna = arrange_progress(database_url, tenant)[0]

    rows = rows_of(api, "/api/v1/progress-courses", tenant)

    assert rows == [
        {
            "user": {"uuid": anna.uuid},
            "course_id": 1,
            "started_at": "2022-11-09T14:46:03.000000Z",
            "finished_at": None,
            "progress": "started",
        },
        {
            "user": {"uuid": anna.uuid},
            "course_id": 2,
            "started_at": "2022-11-09T14:46:03.000000Z",
            "finished_at": "2022-11-10T09:00:00.000000Z",
            "progress": "completed",
        },
    ]


def test_certification_progress_rows(
    api: httpx.Client, database_url: str, tenant: TenantCredentials
) -> None:
    anna = arrange_progress(database_url, tenant)[0]

    rows = rows_of(api, "/api/v1/progress-certifications", tenant)

    assert list(rows[0]) == [
        "user",
        "certification_id",
        "started_at",
        "finished_at",
        "progress",
        "score",
        "score_avg",
        "attempts",
    ]
    assert rows == [
        {
            "user": {"uuid": anna.uuid},
            "certification_id": 1,
            "started_at": "2024-06-13T14:56:29.000000Z",
            "finished_at": "2024-06-13T14:56:29.000000Z",
            "progress": "completed",
            "score": 100,
            "score_avg": "80.00",
            "attempts": 2,
        },
        {
            "user": {"uuid": anna.uuid},
            "certification_id": 2,
            "started_at": "2024-06-13T14:56:29.000000Z",
            "finished_at": None,
            "progress": "started",
            "score": 40,
            "score_avg": "42.50",
            "attempts": 1,
        },
    ]


def deactivate(database_url: str, tenant_id: int, email: str) -> None:
    async def work(session: AsyncSession) -> None:
        await session.execute(
            update(User)
            .where(User.tenant_id == tenant_id, User.email == email)
            .values(deactivated_at=datetime(2024, 5, 1))
        )

    run_async(database_url, work)


def test_progress_of_deactivated_user_is_hidden(
    api: httpx.Client, database_url: str, tenant: TenantCredentials
) -> None:
    anna, gone = add_users(
        database_url,
        tenant.tenant_id,
        [UserSpec(email="anna@example.com"), UserSpec(email="gone@example.com")],
    )
    load_catalogue_document(database_url, tenant.tenant_id, catalogue_document(2))
    load_progress_document(
        database_url, tenant.tenant_id, progress_document([anna, gone])
    )
    deactivate(database_url, tenant.tenant_id, gone.email)

    for path in ("/api/v1/progress-courses", "/api/v1/progress-certifications"):
        response = api.get(f"{path}?limit=1", headers=tenant.headers)
        uuids = {row["user"]["uuid"] for row in rows_of(api, path, tenant)}

        assert uuids == {anna.uuid}, path
        assert response.json()["meta"]["total"] == 1, path


def test_progress_rejects_deactivated_user(
    database_url: str, tenant: TenantCredentials
) -> None:
    gone = add_users(
        database_url, tenant.tenant_id, [UserSpec(email="gone@example.com")]
    )
    load_catalogue_document(database_url, tenant.tenant_id, catalogue_document(1))
    deactivate(database_url, tenant.tenant_id, gone[0].email)

    with pytest.raises(InvalidFileError) as raised:
        load_progress_document(database_url, tenant.tenant_id, progress_document(gone))

    assert [str(problem) for problem in raised.value.problems] == [
        "course_progress[0]: the user gone@example.com is deactivated",
        "certification_progress[0]: the user gone@example.com is deactivated",
    ]
