"""Time one rate-limit hit in each store, beside the ``limits`` package's memory store.

Each hit is followed by ``await asyncio.sleep(0)``, as a server yields to its
event loop between requests, which is when the ``limits`` store runs its
expiry task. The keys of other clients are created first. The Redis figure
needs a server at ``--redis-url``; its keys get a prefix of this run's own and
are deleted afterwards. ``limits`` is not a dependency of the project: install
it (``pip install limits==5.8.0``) to include it.

    python -m bench.rate_limit_store [--keys 1 10000] [--hits 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

import redis

from bench.machine import describe_machine
from maizeplus.kit.rate_limit import RateLimiter, RedisStore

HUGE_LIMIT = 10**9
Hit = Callable[[str], Awaitable[object]]


async def time_hits(hit: Hit, keys: int, hits: int) -> float:
    """Return the microseconds of one hit on a store that already has ``keys`` keys."""
    for number in range(keys):
        await hit(f"api:tenant:1:token:{number}")
    started = time.perf_counter()
    for _ in range(hits):
        await hit("api:tenant:1:token:0")
        await asyncio.sleep(0)
    return (time.perf_counter() - started) / hits * 1e6


async def do_nothing(_key: str) -> object:
    return None


def limits_hit() -> Hit | None:
    try:
        from limits import RateLimitItemPerMinute
        from limits.aio.storage import MemoryStorage
        from limits.aio.strategies import FixedWindowRateLimiter
    except ImportError:
        return None
    limiter = FixedWindowRateLimiter(MemoryStorage())
    item = RateLimitItemPerMinute(HUGE_LIMIT)

    async def hit(key: str) -> object:
        await limiter.hit(item, key)
        return await limiter.get_window_stats(item, key)

    return hit


def limiter_hit(limiter: RateLimiter) -> Hit:
    async def hit(key: str) -> object:
        return (await limiter.hit(key, HUGE_LIMIT)).headers()

    return hit


async def measure(keys: list[int], hits: int, redis_url: str) -> None:
    print(f"Measured on {describe_machine()}\n")
    print("| store | keys | µs a hit |")
    print("| --- | ---: | ---: |")
    for count in keys:
        loop_alone = await time_hits(do_nothing, 0, hits)
        print(f"| event loop alone (sleep(0)) | {count} | {loop_alone:.1f} |")
        ours = await time_hits(limiter_hit(RateLimiter()), count, hits)
        print(f"| maizeplus in-process | {count} | {ours:.1f} |")
        other = limits_hit()
        if other is None:
            print("| limits 5.8.0 async memory | not installed | |")
        else:
            # Fewer hits: each costs milliseconds with many keys.
            theirs = await time_hits(other, count, max(1, hits // 5))
            print(f"| limits 5.8.0 async memory | {count} | {theirs:.1f} |")

    prefix = f"maizeplus-bench:{uuid.uuid4().hex}:"
    limiter = RateLimiter(RedisStore(redis_url, prefix))
    try:
        shared = await time_hits(limiter_hit(limiter), 1, max(1, hits // 5))
        print(f"| maizeplus Redis, loopback | 1 | {shared:.1f} |")
    finally:
        await limiter.close()
        client = redis.Redis.from_url(redis_url)
        stale = list(client.scan_iter(match=f"{prefix}*"))
        if stale:
            client.delete(*stale)
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, nargs="+", default=[1, 10_000])
    parser.add_argument("--hits", type=int, default=5_000)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    options = parser.parse_args()
    asyncio.run(measure(options.keys, options.hits, options.redis_url))


if __name__ == "__main__":
    main()
