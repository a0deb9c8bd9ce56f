"""Fixtures of the client tests: a live server with the demo tenant, and a client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.client import Client, Credentials, RetryPolicy, StoredToken
from maizeplus.demo.service import DemoResult, seed_demo
from maizeplus.settings import Settings
from tests.support import DatabaseTemplate, LiveServer, run_async

DEMO_USERS = 30
# Short waits keep the retry tests fast; the attempts cover a server restart.
FAST_RETRY = RetryPolicy(max_attempts=8, backoff_initial=0.05, backoff_max=0.5)


class MemoryTokenStore:
    """Keeps every token that a client stores, in order."""

    def __init__(self) -> None:
        self.saved: list[StoredToken] = []

    def load(self) -> StoredToken | None:
        return self.saved[-1] if self.saved else None

    def save(self, token: StoredToken) -> None:
        self.saved.append(token)


def seed_demo_tenant(database_url: str, users: int = DEMO_USERS) -> DemoResult:
    """Create the demo tenant with its catalogue, users and progress."""

    async def work(session: AsyncSession) -> DemoResult:
        return await seed_demo(session, users=users, if_missing=False)

    return run_async(database_url, work)


def credentials_of(demo: DemoResult) -> Credentials:
    return Credentials(
        client_id=str(demo.client_id),
        client_secret=demo.client_secret,
        username=demo.username,
        password=demo.password,
    )


@dataclass(frozen=True)
class SharedServer:
    """A live server with the demo tenant, shared by the tests of one module."""

    server: LiveServer
    demo: DemoResult
    settings: Settings

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def credentials(self) -> Credentials:
        return credentials_of(self.demo)


@pytest.fixture(scope="module")
def shared_server(
    database_template: DatabaseTemplate, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SharedServer]:
    """Serve one database for a module's tests that leave the demo data unchanged.

    A fresh database and server per test cost about a second on PostgreSQL,
    so tests that only read, or that write nothing that another test reads,
    share this one.
    """
    with database_template.copy() as database_url:
        settings = Settings(
            database_url=database_url,
            password_hash_time_cost=1,
            password_hash_memory_kib=64,
            import_work_dir=tmp_path_factory.mktemp("imports"),
            report_retry_seconds=0.2,
            smtp_host=None,
        )
        demo = seed_demo_tenant(database_url)
        server = LiveServer(settings).start()
        try:
            yield SharedServer(server, demo, settings)
        finally:
            server.stop()


@pytest.fixture
def shared_client(shared_server: SharedServer) -> Iterator[Client]:
    with Client(
        shared_server.url, shared_server.credentials, retry=FAST_RETRY
    ) as api_client:
        yield api_client


@pytest.fixture
def demo(database_url: str) -> DemoResult:
    return seed_demo_tenant(database_url)


@pytest.fixture
def credentials(demo: DemoResult) -> Credentials:
    return credentials_of(demo)


@pytest.fixture
def client(live_server: LiveServer, credentials: Credentials) -> Iterator[Client]:
    with Client(live_server.url, credentials, retry=FAST_RETRY) as api_client:
        yield api_client
