"""Every method of AsyncClient against the live server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from maizeplus.client import (
    USER_INCLUDES,
    AsyncClient,
    Credentials,
    JobStatus,
    NotFoundError,
    Resource,
)
from tests.client.conftest import DEMO_USERS, FAST_RETRY, MemoryTokenStore
from tests.client.test_imports import users_file
from tests.support import LiveServer


async def exercise_imports(client: AsyncClient, folder: Path) -> None:
    token = await client.authenticate()
    assert token.refresh_token

    job = await client.import_users(users_file(folder, valid=1, invalid=3))
    statuses = [status async for status in client.watch_import(job, interval=0.2)]
    final = await client.wait_for_import(job.uuid, interval=0.2)
    errors = [error async for error in client.iter_import_errors(job, limit=2)]
    page = await client.import_errors(job, page=2, limit=2)
    latest = await client.import_status()

    assert statuses[-1].status == JobStatus.COMPLETED_WITH_ERRORS
    assert final.status == JobStatus.COMPLETED_WITH_ERRORS
    assert [error.row for error in errors] == [3, 4, 5]
    assert [error.row for error in page.data.errors] == [5]
    assert latest.uuid == job.uuid


async def exercise_exports(client: AsyncClient) -> None:
    pages = {
        Resource.USERS: await client.users(limit=4, include=USER_INCLUDES),
        Resource.TOPICS: await client.topics(limit=4),
        Resource.COURSES: await client.courses(limit=4),
        Resource.COURSE_PROGRESS: await client.progress_courses(limit=4),
        Resource.CERTIFICATIONS: await client.certifications(limit=4),
        Resource.CERTIFICATION_PROGRESS: await client.progress_certifications(limit=4),
    }
    walks = {
        Resource.USERS: [user async for user in client.iter_users(limit=9)],
        Resource.TOPICS: [topic async for topic in client.iter_topics(limit=3)],
        Resource.COURSES: [course async for course in client.iter_courses(limit=5)],
        Resource.COURSE_PROGRESS: [
            row async for row in client.iter_progress_courses(limit=50)
        ],
        Resource.CERTIFICATIONS: [
            row async for row in client.iter_certifications(limit=2)
        ],
        Resource.CERTIFICATION_PROGRESS: [
            row async for row in client.iter_progress_certifications(limit=50)
        ],
    }
    raw_pages = [page async for page in client.iter_raw_pages("topics", limit=3)]
    typed_pages = [page async for page in client.iter_pages(Resource.TOPICS, limit=3)]

    for resource, page in pages.items():
        assert len(walks[resource]) == page.meta.total, resource
    assert pages[Resource.USERS].data[0].language is not None
    assert len(walks[Resource.USERS]) == DEMO_USERS + 1
    assert [len(page["data"]) for page in raw_pages] == [3, 1]
    assert [page.meta.current_page for page in typed_pages] == [1, 2]

    first = walks[Resource.USERS][0]
    with pytest.raises(NotFoundError):
        await client.delete_users([first.email, "nobody@example.com"])
    await client.delete_users([first.email])
    assert (await client.users(limit=1)).meta.total == DEMO_USERS


async def exercise_concurrent_calls(url: str, credentials: Credentials) -> None:
    store = MemoryTokenStore()
    async with AsyncClient(
        url, credentials, retry=FAST_RETRY, token_store=store
    ) as client:
        # Ten calls start before any token exists; the lock makes them share one.
        pages = await asyncio.gather(*(client.topics(limit=1) for _ in range(10)))
        token = await client.authenticate()
    async with AsyncClient(url, access_token=token.access_token) as static:
        total = (await static.topics()).meta.total

    assert [page.meta.total for page in pages] == [4] * 10
    assert total == 4
    # One token for the ten calls, and one for authenticate().
    assert len(store.saved) == 2


def test_async_client_methods(
    live_server: LiveServer, credentials: Credentials, tmp_path: Path
) -> None:
    async def scenario() -> None:
        await exercise_concurrent_calls(live_server.url, credentials)
        async with AsyncClient(
            live_server.url, credentials, retry=FAST_RETRY
        ) as client:
            await exercise_imports(client, tmp_path)
            await exercise_exports(client)

    asyncio.run(scenario())
