"""Fixtures of the client tests: a live server with the demo tenant, and a client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.client import Client, Credentials, RetryPolicy, StoredToken
from maizeplus.demo.service import DemoResult, seed_demo
from tests.support import LiveServer, run_async

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
