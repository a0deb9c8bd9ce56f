"""The rate limiter's stores: in the process, and in the real Redis on loopback.

Redis comes from ``MAIZEPLUS_TEST_REDIS_URL`` (by default the local server on
127.0.0.1:6379, which CI has too). Each test writes under a prefix of its own
and deletes its keys afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Iterator

import httpx
import pytest
import redis

from maizeplus.kit.rate_limit import MemoryStore, RateLimiter, RedisStore
from maizeplus.settings import Settings
from tests.support import LiveServer, TenantCredentials, free_port

REDIS_URL = os.environ.get("MAIZEPLUS_TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"
USERS_URL = "/api/v1/users?page=1&limit=1"


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """Yield a key prefix of this test's own; delete its keys afterwards."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.fail(
            f"Redis at {REDIS_URL} is unreachable ({error}); start it or set "
            "MAIZEPLUS_TEST_REDIS_URL"
        )
    prefix = f"maizeplus-test:{uuid.uuid4().hex}:"
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


def hits(
    store: MemoryStore | RedisStore, key: str, times: int, window: int
) -> list[int]:
    async def work() -> list[int]:
        counts = [(await store.hit(key, window))[0] for _ in range(times)]
        await store.close()
        return counts

    return asyncio.run(work())


def test_memory_store_counts_per_key() -> None:
    async def work() -> tuple[list[int], int, float]:
        store = MemoryStore()
        counts = [(await store.hit("a", 60))[0] for _ in range(3)]
        other, left = await store.hit("b", 60)
        return counts, other, left

    counts, other, left = asyncio.run(work())

    assert counts == [1, 2, 3]
    assert other == 1
    assert 59 < left <= 60


def test_memory_store_window_restarts() -> None:
    async def work() -> tuple[int, int]:
        store = MemoryStore()
        await store.hit("a", 1)
        second, _ = await store.hit("a", 1)
        await asyncio.sleep(1.05)
        after, _ = await store.hit("a", 1)
        return second, after

    second, after = asyncio.run(work())

    assert second == 2
    assert after == 1


def test_memory_store_full_drops_oldest(caplog: pytest.LogCaptureFixture) -> None:
    async def work() -> tuple[int, int, int]:
        store = MemoryStore(max_keys=10)
        for number in range(10):
            await store.hit(f"key-{number}", 60)
        await store.hit("key-9", 60)
        newest, _ = await store.hit("key-new", 60)
        oldest, _ = await store.hit("key-0", 60)
        kept, _ = await store.hit("key-9", 60)
        return newest, oldest, kept

    with caplog.at_level(logging.WARNING, logger="maizeplus.kit.rate_limit"):
        newest, oldest, kept = asyncio.run(work())

    assert newest == 1
    assert oldest == 1
    assert kept == 3
    assert "rate_limit.memory_store_full" in caplog.messages


def test_redis_store_shares_counts(redis_prefix: str) -> None:
    first = RedisStore(REDIS_URL, redis_prefix)
    second = RedisStore(REDIS_URL, redis_prefix)

    from_first = hits(first, "api:tenant:1:token:1", 2, 60)
    from_second = hits(second, "api:tenant:1:token:1", 1, 60)

    assert from_first == [1, 2]
    assert from_second == [3]
    ttl = redis.Redis.from_url(REDIS_URL).pttl(f"{redis_prefix}api:tenant:1:token:1")
    assert 0 < ttl <= 60_000


def test_redis_store_window_restarts(redis_prefix: str) -> None:
    async def work() -> tuple[int, int]:
        store = RedisStore(REDIS_URL, redis_prefix)
        await store.hit("a", 1)
        second, _ = await store.hit("a", 1)
        await asyncio.sleep(1.1)
        after, _ = await store.hit("a", 1)
        await store.close()
        return second, after

    second, after = asyncio.run(work())

    assert second == 2
    assert after == 1


def test_limiter_without_redis_counts_locally(caplog: pytest.LogCaptureFixture) -> None:
    # A port that was free a moment ago, so the connection is refused.
    limiter = RateLimiter(RedisStore(f"redis://127.0.0.1:{free_port()}/0", "x:"))

    async def work() -> list[int]:
        results = [await limiter.hit("a", 2) for _ in range(3)]
        await limiter.close()
        return [result.hits for result in results]

    with caplog.at_level(logging.WARNING, logger="maizeplus.kit.rate_limit"):
        counts = asyncio.run(work())

    assert counts == [1, 2, 3]
    assert caplog.messages.count("rate_limit.redis_failed") == 1


def test_redis_budget_shared_by_servers(
    settings: Settings, tenant: TenantCredentials, redis_prefix: str
) -> None:
    shared = settings.model_copy(
        update={
            "rate_limit_api_per_minute": 5,
            "rate_limit_redis_url": REDIS_URL,
            "rate_limit_redis_prefix": redis_prefix,
        }
    )
    servers = [LiveServer(shared).start(), LiveServer(shared).start()]
    try:
        clients = [httpx.Client(base_url=server.url, timeout=30) for server in servers]
        statuses = [
            clients[number % 2].get(USERS_URL, headers=tenant.headers).status_code
            for number in range(5)
        ]
        rejected = [client.get(USERS_URL, headers=tenant.headers) for client in clients]
        for client in clients:
            client.close()
    finally:
        for server in servers:
            server.stop()

    assert statuses == [200] * 5
    for response in rejected:
        assert response.status_code == 429, response.text
        assert response.headers["x-ratelimit-remaining"] == "0"
