"""Fixed-window rate limits, counted in the process or in a shared Redis.

A window opens with the first hit on a key and lasts ``window_seconds``. Hits
beyond the limit within it are rejected until it ends. A client may thus send
up to twice the limit in a short span that straddles two windows.

The in-process store is the default. Every server process then counts on its
own, so N processes behind a load balancer allow up to N times the limit. With
``MAIZEPLUS_RATE_LIMIT_REDIS_URL`` all processes share one counter per key.

The ``limits`` package (version 5.8.0, ``async+memory`` storage) was
measured first and not used: with 10,000 live keys its expiry task scans
every key whenever the event loop yields, which cost milliseconds a request
(``bench/rate_limit_store.py``). Both stores here cost O(1) a hit, and the
Redis store takes one round trip.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import redis.asyncio as redis
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from maizeplus.kit.errors import DomainError

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
# The scope "state" key under which a route leaves its RateLimitResult for
# RateLimitHeaders.
STATE_KEY = "rate_limit"
# The in-process store drops the oldest windows beyond this many keys.
MAX_MEMORY_KEYS = 100_000
# After a Redis error the limiter counts in the process for this long before it
# tries Redis again, so an unreachable Redis does not add its timeout to every
# request.
REDIS_RETRY_SECONDS = 5.0
REDIS_TIMEOUT_SECONDS = 0.5

# INCR the key, start its window on the first hit, and return the count and
# the milliseconds left in the window, in one round trip.
_HIT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if count == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


@dataclass(frozen=True)
class RateLimitResult:
    """The outcome of one hit: whether it is allowed and what is left of the window."""

    limit: int
    hits: int
    reset_after_seconds: float

    @property
    def allowed(self) -> bool:
        return self.hits <= self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.hits)

    @property
    def first_rejection(self) -> bool:
        """Tell whether this hit is the window's first over the limit, for logging once."""
        return self.hits == self.limit + 1

    def headers(self) -> dict[str, str]:
        """Return the ``X-RateLimit-*`` headers, plus ``Retry-After`` when rejected."""
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
        }
        if not self.allowed:
            retry_after = max(1, math.ceil(self.reset_after_seconds))
            headers["Retry-After"] = str(retry_after)
            headers["X-RateLimit-Reset"] = str(math.ceil(time.time()) + retry_after)
        return headers


class TooManyAttempts(DomainError):
    """The client has used up its requests of the current window."""

    status_code = 429
    default_message = "Too Many Attempts."

    def __init__(self, result: RateLimitResult) -> None:
        super().__init__(headers=result.headers())


class RateLimitStore(Protocol):
    """A counter per key whose window starts at its first hit."""

    async def hit(self, key: str, window_seconds: int) -> tuple[int, float]:
        """Count one hit; return the hits in the window and the seconds it has left."""
        ...

    async def close(self) -> None: ...


class MemoryStore:
    """Counters in this process. Use it from one event loop only, as it takes no lock."""

    def __init__(self, max_keys: int = MAX_MEMORY_KEYS) -> None:
        self.max_keys = max_keys
        # key -> [window end (time.monotonic()), hits]. Insertion order is the
        # order in which the windows opened, because an ended window is
        # deleted before its key is added again.
        self._windows: dict[str, list[float]] = {}
        self._next_prune = 0.0

    def __len__(self) -> int:
        return len(self._windows)

    async def hit(self, key: str, window_seconds: int) -> tuple[int, float]:
        now = time.monotonic()
        window = self._windows.get(key)
        if window is None or window[0] <= now:
            if window is not None:
                del self._windows[key]
            self._make_room(now)
            window = [now + window_seconds, 0]
            self._windows[key] = window
        window[1] += 1
        return int(window[1]), window[0] - now

    def _make_room(self, now: float) -> None:
        """Drop ended windows now and then, and the oldest ones when the store is full."""
        if now >= self._next_prune or len(self._windows) >= self.max_keys:
            ended = [key for key, (end, _) in self._windows.items() if end <= now]
            for key in ended:
                del self._windows[key]
            self._next_prune = now + WINDOW_SECONDS
        if len(self._windows) >= self.max_keys:
            dropped = len(self._windows) - self.max_keys + 1 + self.max_keys // 10
            for key in list(self._windows)[:dropped]:
                del self._windows[key]
            # A dropped window's hits are lost, so its client gets a fresh budget.
            logger.warning(
                "rate_limit.memory_store_full",
                extra={"max_keys": self.max_keys, "dropped_keys": dropped},
            )

    async def close(self) -> None:
        self._windows.clear()


class RedisStore:
    """Counters in Redis, shared by every process that uses the same URL and prefix."""

    def __init__(self, url: str, prefix: str) -> None:
        self.prefix = prefix
        self._client: Any = redis.from_url(
            url,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )
        self._script = self._client.register_script(_HIT_SCRIPT)

    async def hit(self, key: str, window_seconds: int) -> tuple[int, float]:
        count, ttl_ms = await self._script(
            keys=[self.prefix + key], args=[window_seconds * 1000]
        )
        return int(count), int(ttl_ms) / 1000

    async def close(self) -> None:
        await self._client.aclose()


class RateLimiter:
    """Apply limits to keys, in Redis when one is configured and otherwise in memory.

    When Redis fails, the limiter counts in the process for
    ``REDIS_RETRY_SECONDS`` and logs the failure once per such period, so
    requests keep their limits, if per process, while Redis is away.
    """

    def __init__(self, shared: RedisStore | None = None) -> None:
        self.shared = shared
        self.local = MemoryStore()
        self._redis_retry_at = 0.0

    @classmethod
    def create(cls, redis_url: str | None, redis_prefix: str) -> RateLimiter:
        shared = RedisStore(redis_url, redis_prefix) if redis_url else None
        return cls(shared)

    async def hit(
        self, key: str, limit: int, window_seconds: int = WINDOW_SECONDS
    ) -> RateLimitResult:
        """Count one request against ``key`` and tell whether it is within ``limit``."""
        count, reset_after = await self._store_hit(key, window_seconds)
        return RateLimitResult(limit=limit, hits=count, reset_after_seconds=reset_after)

    async def _store_hit(self, key: str, window_seconds: int) -> tuple[int, float]:
        if self.shared is not None and time.monotonic() >= self._redis_retry_at:
            try:
                return await self.shared.hit(key, window_seconds)
            except (RedisError, OSError) as error:
                self._redis_retry_at = time.monotonic() + REDIS_RETRY_SECONDS
                logger.warning(
                    "rate_limit.redis_failed",
                    extra={
                        "error": type(error).__name__,
                        "reason": str(error)[:300],
                        "retry_after_seconds": REDIS_RETRY_SECONDS,
                    },
                )
        return await self.local.hit(key, window_seconds)

    async def close(self) -> None:
        await self.local.close()
        if self.shared is not None:
            await self.shared.close()


def remember_result(scope: Scope, result: RateLimitResult) -> None:
    """Leave ``result`` in the request's state, for ``RateLimitHeaders``."""
    scope.setdefault("state", {})[STATE_KEY] = result


class RateLimitHeaders:
    """ASGI middleware that adds the ``X-RateLimit-*`` headers of a counted request.

    A route or dependency that counted the request leaves its result with
    ``remember_result``. Every response of that request then gets the
    headers, error responses of the application's handlers included. Headers
    that the response already has are kept.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                result = (scope.get("state") or {}).get(STATE_KEY)
                if isinstance(result, RateLimitResult):
                    message = {
                        **message,
                        "headers": _merge_headers(
                            message.get("headers", []), result.headers()
                        ),
                    }
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _merge_headers(
    raw: list[tuple[bytes, bytes]], extra: Mapping[str, str]
) -> list[tuple[bytes, bytes]]:
    present = {name.lower() for name, _ in raw}
    added = [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in extra.items()
        if name.lower().encode("latin-1") not in present
    ]
    return [*raw, *added]
