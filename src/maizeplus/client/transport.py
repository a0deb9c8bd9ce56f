"""Sending requests: retries with backoff, ``Retry-After``, and the two drivers.

A request is run as a flow: a generator that yields actions (send a request,
sleep, get an access token) and receives their results. The same flow runs in
the blocking driver (``SyncTransport``) and in the asyncio driver
(``AsyncTransport``), so the retry and token rules exist only once.

Which failures are retried:

- A connection that could not be opened, or no free connection in the pool:
  the server cannot have seen the request, so every call is retried.
- 429: every call is retried after ``Retry-After``, because a throttled
  request is rejected before it is processed.
- Other network errors, timeouts, 502, 503 and 504: only idempotent calls
  (GET and DELETE, and token requests that issue a new token). An upload or a
  refresh-token rotation that may have reached the server is never repeated.
- 401 on a call with managed credentials: once, with a renewed token, since
  the server rejects the token before it processes the request.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections.abc import AsyncIterator, Generator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx

from maizeplus.client.errors import (
    ConnectionFailedError,
    MaizeplusError,
    error_from_response,
    parse_retry_after,
)

logger = logging.getLogger("maizeplus.client")

T = TypeVar("T")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# httpx raises these before any byte of the request has left the client.
NOT_SENT_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)
# Failures that may pass; other transport errors (an invalid URL, an
# unsupported protocol, a proxy error) are raised at once.
TRANSIENT_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


@dataclass(frozen=True)
class Upload:
    """A file to send as the multipart part ``file``; it is reopened for each attempt.

    ``source`` is a path, the file's bytes, or a binary file object. A file
    object must be seekable to be sent again after a retry.
    """

    filename: str
    source: Path | bytes | IO[bytes]
    content_type: str = "application/octet-stream"

    @contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        """Yield the file positioned at its start."""
        if isinstance(self.source, Path):
            with self.source.open("rb") as stream:
                yield stream
        elif isinstance(self.source, bytes):
            yield BytesIO(self.source)
        else:
            if self.source.seekable():
                self.source.seek(0)
            yield self.source


@dataclass(frozen=True)
class Call:
    """One API request, described before it is sent.

    ``url`` is a path under the base URL, or an absolute URL of the same
    origin (a page link). ``idempotent`` defaults to what the method implies.
    """

    method: str
    url: str
    params: Sequence[tuple[str, str]] = ()
    form: Mapping[str, str | Sequence[str]] | None = None
    upload: Upload | None = None
    authenticated: bool = True
    idempotent: bool | None = None

    @property
    def is_idempotent(self) -> bool:
        if self.idempotent is not None:
            return self.idempotent
        return self.method.upper() in IDEMPOTENT_METHODS


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long the client retries a call.

    ``max_attempts`` counts every request of one call, the first included.
    Backoff doubles from ``backoff_initial`` seconds up to ``backoff_max``,
    with random jitter of up to half the delay. A ``Retry-After`` longer than
    ``max_retry_after`` seconds is not waited out: the error is raised.
    """

    max_attempts: int = 5
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    max_retry_after: float = 120.0
    retry_statuses: frozenset[int] = field(
        default_factory=lambda: frozenset({502, 503, 504})
    )

    def backoff(self, attempt: int) -> float:
        """Return the wait in seconds after failed attempt number ``attempt`` (from 1)."""
        ceiling = min(self.backoff_max, self.backoff_initial * 2.0 ** (attempt - 1))
        # Jitter spreads the retries of many clients after a shared outage.
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - not a secret

    def delay_after_error(
        self, call: Call, attempt: int, error: httpx.TransportError
    ) -> float | None:
        """Return the wait before the next attempt, or None to raise ``error``."""
        if attempt >= self.max_attempts:
            return None
        if isinstance(error, NOT_SENT_ERRORS):
            return self.backoff(attempt)
        if isinstance(error, TRANSIENT_ERRORS) and call.is_idempotent:
            return self.backoff(attempt)
        return None

    def delay_after_response(
        self, call: Call, attempt: int, response: httpx.Response, now: float
    ) -> float | None:
        """Return the wait before the next attempt, or None to keep ``response``."""
        status = response.status_code
        if status != 429 and (
            status not in self.retry_statuses or not call.is_idempotent
        ):
            return None
        if attempt >= self.max_attempts:
            return None
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now)
        if retry_after is None:
            return self.backoff(attempt)
        if retry_after > self.max_retry_after:
            return None
        return retry_after


# --- Actions that a flow yields --------------------------------------------


@dataclass(frozen=True)
class Send:
    """Send ``call`` with ``access_token`` as the bearer token; returns the response."""

    call: Call
    access_token: str | None


@dataclass(frozen=True)
class Sleep:
    """Wait ``seconds``; returns None."""

    seconds: float


@dataclass(frozen=True)
class GetAccessToken:
    """Return a usable access token, renewed if due or if ``rejected`` by the server.

    The token comes back unchanged when it cannot be renewed.
    """

    rejected: str | None = None


Action = Send | Sleep | GetAccessToken
Flow = Generator[Action, Any, T]


def _loggable_url(url: str) -> str:
    parts = urlsplit(url)
    return parts.path or url


def exchange(call: Call, policy: RetryPolicy) -> Flow[httpx.Response]:
    """Send ``call`` until it succeeds or fails for good, following the module's rules.

    Returns a response with a status below 400 and raises ``ApiError`` for any
    other, or ``ConnectionFailedError`` when no response arrived.
    """
    attempt = 0
    token: str | None = None
    renewed = False
    while True:
        attempt += 1
        if call.authenticated and token is None:
            token = yield GetAccessToken()
        try:
            response: httpx.Response = yield Send(call, token)
        except httpx.TransportError as error:
            delay = policy.delay_after_error(call, attempt, error)
            sent = not isinstance(error, NOT_SENT_ERRORS)
            if delay is None:
                raise _connection_failed(call, error, sent, attempt) from error
            logger.warning(
                "%s %s failed (%s); retrying in %.1f s, attempt %d of %d",
                call.method,
                _loggable_url(call.url),
                type(error).__name__,
                delay,
                attempt + 1,
                policy.max_attempts,
            )
            yield Sleep(delay)
            token = None  # the token may be due for renewal after the wait
            continue

        if response.status_code == 401 and token is not None and not renewed:
            renewed = True
            fresh: str = yield GetAccessToken(rejected=token)
            if fresh != token:
                # Not counted as an attempt: the server rejected the token
                # before it looked at the request.
                logger.info(
                    "%s %s: access token rejected; sending again with a new one",
                    call.method,
                    _loggable_url(call.url),
                )
                token = fresh
                attempt -= 1
                continue

        now = time.time()
        delay = policy.delay_after_response(call, attempt, response, now)
        if delay is not None:
            logger.warning(
                "%s %s returned %d; retrying in %.1f s, attempt %d of %d",
                call.method,
                _loggable_url(call.url),
                response.status_code,
                delay,
                attempt + 1,
                policy.max_attempts,
            )
            yield Sleep(delay)
            token = None
            continue
        if response.is_error:
            raise error_from_response(response, attempts=attempt, now=now)
        return response


def _connection_failed(
    call: Call, error: httpx.TransportError, sent: bool, attempts: int
) -> ConnectionFailedError:
    message = f"{call.method} {call.url} failed after {attempts} attempt(s): {type(error).__name__}: {error}"
    if sent and not call.is_idempotent:
        message += (
            ". The request may have reached the server, so it was not repeated; "
            "check its effect before sending it again"
        )
    return ConnectionFailedError(
        message, method=call.method, url=call.url, sent=sent, attempts=attempts
    )


# --- URLs ----------------------------------------------------------------------


def origin_of(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def rebase_link(base_url: str, link: str) -> str:
    """Return ``link`` with the scheme and host of ``base_url`` when their origins differ.

    Page links are absolute and built from the server's idea of its own
    address. Following them as they are could send the bearer token to
    another host, so a link of another origin keeps only its path and query.
    """
    link_parts = urlsplit(link)
    if not link_parts.scheme:
        return link
    if origin_of(link) == origin_of(base_url):
        return link
    base = urlsplit(base_url)
    # NOTE: a base URL with a path prefix that the server's links lack (a
    # proxy that strips it) still gets the link's path without the prefix.
    logger.warning(
        "page link %s is not under the base URL %s; following its path there",
        urlunsplit((*link_parts[:3], "", "")),
        base_url,
    )
    return urlunsplit((base.scheme, base.netloc, link_parts.path, link_parts.query, ""))


# --- Drivers -------------------------------------------------------------------


class TokenSource(Protocol):
    """A source of access tokens for a driver: a flow that returns one."""

    def access_token_flow(self, rejected: str | None) -> Flow[str]: ...


def _http_request_arguments(
    call: Call, access_token: str | None, extra_headers: Mapping[str, str]
) -> dict[str, Any]:
    headers = {**extra_headers, "Accept": "application/json"}
    if access_token is not None:
        headers["Authorization"] = f"Bearer {access_token}"
    arguments: dict[str, Any] = {"headers": headers}
    if call.params:
        arguments["params"] = list(call.params)
    if call.form is not None:
        arguments["data"] = dict(call.form)
    return arguments


class _DriverBase:
    def __init__(
        self,
        base_url: str,
        policy: RetryPolicy,
        tokens: TokenSource | None,
        headers: Mapping[str, str] | None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.policy = policy
        self.tokens = tokens
        # Sent with every request, also through an http client of the caller's.
        self.headers = dict(headers or {})

    def _check_origin(self, call: Call, access_token: str | None) -> None:
        if access_token is None or not urlsplit(call.url).scheme:
            return
        if origin_of(call.url) != origin_of(self.base_url):
            raise MaizeplusError(
                f"refusing to send the access token to {call.url}, which is not "
                f"under the base URL {self.base_url}"
            )

    def _absolute_url(self, call: Call) -> str:
        # Absolute URLs keep a caller's http_client free of any base_url.
        if urlsplit(call.url).scheme:
            return call.url
        return self.base_url + call.url

    def _no_token_source(self) -> MaizeplusError:
        return MaizeplusError(
            "this call needs an access token, but the client has neither "
            "credentials nor an access token"
        )


class SyncTransport(_DriverBase):
    """Runs flows with a blocking ``httpx.Client``; safe to share between threads."""

    def __init__(
        self,
        base_url: str,
        policy: RetryPolicy,
        tokens: TokenSource | None,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        headers: Mapping[str, str] | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        super().__init__(base_url, policy, tokens, headers)
        self._owns_http = http is None
        self.http = http or httpx.Client(timeout=timeout)
        self._token_lock = threading.Lock()

    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    def request(self, call: Call) -> httpx.Response:
        """Send ``call`` with retries and return its successful response."""
        return self.run(exchange(call, self.policy))

    def run(self, flow: Flow[T]) -> T:
        """Drive ``flow`` to its end and return its value."""
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                action = flow.throw(error) if error is not None else flow.send(value)
            except StopIteration as stop:
                result: T = stop.value
                return result
            value, error = None, None
            if isinstance(action, Sleep):
                time.sleep(action.seconds)
            elif isinstance(action, Send):
                try:
                    value = self._send(action)
                except httpx.TransportError as transport_error:
                    error = transport_error
            else:
                value = self._access_token(action.rejected)

    def _access_token(self, rejected: str | None) -> str:
        if self.tokens is None:
            raise self._no_token_source()
        with self._token_lock:
            return self.run(self.tokens.access_token_flow(rejected))

    def _send(self, action: Send) -> httpx.Response:
        call = action.call
        self._check_origin(call, action.access_token)
        arguments = _http_request_arguments(call, action.access_token, self.headers)
        url = self._absolute_url(call)
        if call.upload is None:
            return self.http.request(call.method, url, **arguments)
        with call.upload.open() as stream:
            arguments["files"] = {
                "file": (call.upload.filename, stream, call.upload.content_type)
            }
            return self.http.request(call.method, url, **arguments)


class AsyncTransport(_DriverBase):
    """Runs flows with an ``httpx.AsyncClient``; safe to share between tasks of one loop."""

    def __init__(
        self,
        base_url: str,
        policy: RetryPolicy,
        tokens: TokenSource | None,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        headers: Mapping[str, str] | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(base_url, policy, tokens, headers)
        self._owns_http = http is None
        self.http = http or httpx.AsyncClient(timeout=timeout)
        self._token_lock = asyncio.Lock()

    async def close(self) -> None:
        if self._owns_http:
            await self.http.aclose()

    async def request(self, call: Call) -> httpx.Response:
        """Send ``call`` with retries and return its successful response."""
        return await self.run(exchange(call, self.policy))

    async def run(self, flow: Flow[T]) -> T:
        """Drive ``flow`` to its end and return its value."""
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                action = flow.throw(error) if error is not None else flow.send(value)
            except StopIteration as stop:
                result: T = stop.value
                return result
            value, error = None, None
            if isinstance(action, Sleep):
                await asyncio.sleep(action.seconds)
            elif isinstance(action, Send):
                try:
                    value = await self._send(action)
                except httpx.TransportError as transport_error:
                    error = transport_error
            else:
                value = await self._access_token(action.rejected)

    async def _access_token(self, rejected: str | None) -> str:
        if self.tokens is None:
            raise self._no_token_source()
        async with self._token_lock:
            return await self.run(self.tokens.access_token_flow(rejected))

    async def _send(self, action: Send) -> httpx.Response:
        call = action.call
        self._check_origin(call, action.access_token)
        arguments = _http_request_arguments(call, action.access_token, self.headers)
        url = self._absolute_url(call)
        if call.upload is None:
            return await self.http.request(call.method, url, **arguments)
        async with _opened(call.upload) as stream:
            arguments["files"] = {
                "file": (call.upload.filename, stream, call.upload.content_type)
            }
            return await self.http.request(call.method, url, **arguments)


@asynccontextmanager
async def _opened(upload: Upload) -> AsyncIterator[IO[bytes]]:
    # httpx reads a multipart file part synchronously, in the async client too.
    with upload.open() as stream:
        yield stream
