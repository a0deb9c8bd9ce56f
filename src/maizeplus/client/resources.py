"""The clients: one method per endpoint of the Open API, and iterators over exports.

``Client`` blocks; ``AsyncClient`` has the same methods as coroutines and its
iterators are async iterators. Both rely only on the shapes of the API
contract: page walks follow ``links.next`` rather than counting pages, so they
work against any server that speaks the contract.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self, cast
from urllib.parse import quote

import httpx

from maizeplus.client.auth import Credentials, StaticToken, TokenManager, TokenStore
from maizeplus.client.errors import PagingError, WaitTimeoutError
from maizeplus.client.models import (
    Certification,
    CertificationProgress,
    Course,
    CourseProgress,
    ImportJob,
    Page,
    Resource,
    RowError,
    RowErrorPage,
    Token,
    Topic,
    User,
    parse_page,
)
from maizeplus.client.transport import (
    DEFAULT_TIMEOUT,
    AsyncTransport,
    Call,
    RetryPolicy,
    SyncTransport,
    TokenSource,
    Upload,
    rebase_link,
)

API_PREFIX = "/api/v1"
LATEST = "latest"
DEFAULT_PAGE_SIZE = 48
# The largest page the contract allows: the fewest requests for a full walk.
WALK_PAGE_SIZE = 100
DEFAULT_POLL_INTERVAL_SECONDS = 2.0
FIRST_POLL_DELAY_SECONDS = 0.25

FileSource = str | os.PathLike[str] | bytes | IO[bytes]
JobReference = str | ImportJob


def _user_agent() -> str:
    try:
        return f"maizeplus-client/{version('maizeplus')}"
    except PackageNotFoundError:
        return "maizeplus-client"


def _job_path(job: JobReference, endpoint: str) -> str:
    reference = job.uuid if isinstance(job, ImportJob) else job
    if not reference:
        raise ValueError("the job reference is empty; give a uuid or 'latest'")
    return f"{API_PREFIX}/import/{quote(reference, safe='')}/{endpoint}"


def _upload(file: FileSource, filename: str | None) -> Upload:
    source: Path | bytes | IO[bytes]
    if isinstance(file, str | os.PathLike):
        source = Path(file)
        name = filename or source.name
    elif isinstance(file, bytes):
        source = file
        name = filename or "upload"
    else:
        source = file
        name = filename or Path(str(getattr(file, "name", "upload"))).name
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return Upload(name, source, content_type)


def _page_params(
    page: int | None, limit: int, include: Sequence[str]
) -> list[tuple[str, str]]:
    params: list[tuple[str, str]] = []
    if page is not None:
        params.append(("page", str(page)))
    params.append(("limit", str(limit)))
    if include:
        params.append(("include", ",".join(include)))
    return params


def _export_call(
    resource: Resource | str, page: int | None, limit: int, include: Sequence[str]
) -> Call:
    path = f"{API_PREFIX}/{Resource(resource).value}"
    return Call("GET", path, params=_page_params(page, limit, include))


def _delete_call(emails: Iterable[str]) -> Call:
    return Call("DELETE", f"{API_PREFIX}/users", form={"emails[]": list(emails)})


def _job_of(response: httpx.Response) -> ImportJob:
    return ImportJob.model_validate(response.json()["data"])


class _PageLinks:
    """Follows the ``links.next`` of successive pages and stops on a loop."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._followed: set[str] = set()

    def next_call(self, body: Any, items: Sequence[Any]) -> Call | None:
        """Return the request for the page after ``body``, or None after the last page."""
        links = body.get("links") if isinstance(body, dict) else None
        next_link = links.get("next") if isinstance(links, dict) else None
        # A page without items ends the walk even if it links on, so that a
        # server that links past its last page cannot keep the walk going.
        if not next_link or not items:
            return None
        url = rebase_link(self.base_url, str(next_link))
        if url in self._followed:
            raise PagingError(
                f"the page link {url} was already followed, so the server's "
                "links form a loop; the walk stopped"
            )
        self._followed.add(url)
        return Call("GET", url)


ItemsOf = Callable[[Any], list[Any]]


def _items_of_export(body: Any) -> list[Any]:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise PagingError("the page has no data list")
    return data


def _items_of_error_page(body: Any) -> list[Any]:
    data = body.get("data") if isinstance(body, dict) else None
    errors = data.get("errors") if isinstance(data, dict) else None
    if not isinstance(errors, list):
        raise PagingError("the page of row errors has no data.errors list")
    return errors


def _poll_delays(interval: float) -> Iterator[float]:
    """Yield the waits between status polls: from a quarter second up to ``interval``."""
    delay = min(FIRST_POLL_DELAY_SECONDS, interval)
    while True:
        yield delay
        delay = min(delay * 2, interval)


def _token_source(
    credentials: Credentials | None,
    access_token: str | None,
    policy: RetryPolicy,
    refresh_margin: float | None,
    token_store: TokenStore | None,
) -> tuple[TokenSource | None, TokenManager | None]:
    if credentials is not None and access_token is not None:
        raise ValueError("give either credentials or an access token, not both")
    if credentials is not None:
        manager = TokenManager(
            credentials, policy, refresh_margin=refresh_margin, store=token_store
        )
        return manager, manager
    if access_token is not None:
        return StaticToken(access_token), None
    return None, None


class Client:
    """A blocking client of the Open API for one tenant.

    ``base_url`` is the server's root, such as ``https://maize.example.com``;
    the client adds ``/api/v1`` and ``/oauth/token`` itself. Give either
    ``credentials`` (the client takes and renews tokens) or a ready
    ``access_token`` (used as it is). ``retry`` sets the retries, ``timeout``
    the httpx timeout in seconds. ``refresh_margin`` and ``token_store`` are
    passed to the ``TokenManager``. ``http_client`` is an httpx client of
    your own, for proxies or certificates; its timeouts replace ``timeout``. A client is safe to share between threads;
    close it, or use it as a context manager.
    """

    def __init__(
        self,
        base_url: str,
        credentials: Credentials | None = None,
        *,
        access_token: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        refresh_margin: float | None = None,
        token_store: TokenStore | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        self.retry = retry or RetryPolicy()
        tokens, self._tokens = _token_source(
            credentials, access_token, self.retry, refresh_margin, token_store
        )
        self._transport = SyncTransport(
            base_url,
            self.retry,
            tokens,
            timeout=timeout,
            headers={"User-Agent": _user_agent()},
            http=http_client,
        )
        self.base_url = self._transport.base_url

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections (unless ``http_client`` came from the caller)."""
        self._transport.close()

    # --- OAuth -------------------------------------------------------------

    def authenticate(self) -> Token:
        """Take a new token with the credentials' grant and use it from now on.

        Calls take a token by themselves when they need one; this checks the
        credentials up front. Raises ``OAuthError`` when the server rejects them.
        """
        if self._tokens is None:
            raise ValueError("the client was created without credentials")
        return self._transport.run(self._tokens.grant_flow())

    # --- Imports -----------------------------------------------------------

    def import_users(
        self, file: FileSource, *, filename: str | None = None
    ) -> ImportJob:
        """Upload a CSV or XLSX file of users; ``POST /api/v1/import``.

        ``file`` is a path, the file's bytes or a binary file object. Returns
        the new job, still ``running``. A repeated upload starts a second job,
        so the upload is sent again only when the server cannot have processed
        it: the connection could not be opened, the server returned 429, or it
        rejected an expired token. Raises ``ValidationFailedError`` for a missing or
        unreadable file and ``PayloadTooLargeError`` above the server's limit.
        """
        call = Call("POST", f"{API_PREFIX}/import", upload=_upload(file, filename))
        return _job_of(self._transport.request(call))

    def import_status(self, job: JobReference = LATEST) -> ImportJob:
        """Fetch a job's status; ``GET /api/v1/import/{job}/status``.

        ``job`` is a uuid, an ``ImportJob`` or ``latest`` for the tenant's
        newest job. Raises ``NotFoundError`` for an unknown job.
        """
        return _job_of(self._transport.request(Call("GET", _job_path(job, "status"))))

    def import_errors(
        self, job: JobReference = LATEST, *, page: int = 1, limit: int = WALK_PAGE_SIZE
    ) -> RowErrorPage:
        """Fetch one page of a job's row errors; ``GET /api/v1/import/{job}/errors``."""
        call = Call(
            "GET", _job_path(job, "errors"), params=_page_params(page, limit, ())
        )
        return RowErrorPage.model_validate(self._transport.request(call).json())

    def iter_import_errors(
        self, job: JobReference = LATEST, *, limit: int = WALK_PAGE_SIZE
    ) -> Iterator[RowError]:
        """Yield every row error of a job, in row order, walking all pages."""
        first = Call(
            "GET", _job_path(job, "errors"), params=_page_params(None, limit, ())
        )
        for body in self._walk(first, _items_of_error_page):
            for item in _items_of_error_page(body):
                yield RowError.model_validate(item)

    def watch_import(
        self,
        job: JobReference = LATEST,
        *,
        interval: float = DEFAULT_POLL_INTERVAL_SECONDS,
        timeout: float | None = None,
    ) -> Iterator[ImportJob]:
        """Yield a job's status at each poll until the job has finished.

        The first status comes at once, the last one is final. Polls start a
        quarter second apart and slow down to ``interval`` seconds. ``latest``
        is resolved to a uuid on the first poll, so a newer upload does not
        take its place. Raises ``WaitTimeoutError`` after ``timeout`` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        status = self.import_status(job)
        delays = _poll_delays(interval)
        while True:
            yield status
            if status.finished:
                return
            delay = next(delays)
            if deadline is not None and time.monotonic() + delay > deadline:
                raise WaitTimeoutError(
                    f"the import job {status.uuid} was still running after {timeout} s",
                    status,
                )
            time.sleep(delay)
            status = self.import_status(status.uuid)

    def wait_for_import(
        self,
        job: JobReference = LATEST,
        *,
        interval: float = DEFAULT_POLL_INTERVAL_SECONDS,
        timeout: float | None = None,
    ) -> ImportJob:
        """Poll a job until it has finished and return its final status.

        ``interval`` and ``timeout`` work as in ``watch_import``.
        """
        final: ImportJob | None = None
        for status in self.watch_import(job, interval=interval, timeout=timeout):
            final = status
        assert final is not None
        return final

    # --- Users -------------------------------------------------------------

    def delete_users(self, emails: Iterable[str]) -> None:
        """Deactivate users by email; ``DELETE /api/v1/users``.

        All or nothing: if any address belongs to no user of the tenant, the
        server changes nothing and the client raises ``NotFoundError``, whose
        message names the unknown addresses. No address, or a malformed one,
        raises ``ValidationFailedError``.

        DELETE is idempotent, so a transient failure is retried. This
        project's server returns 204 again for a repeated deletion.
        NOTE: a server that returns 404 for users it already deactivated
        would make a retried call raise ``NotFoundError`` although an earlier
        attempt applied; ``attempts`` above 1 shows that it was retried.
        """
        self._transport.request(_delete_call(emails))

    # --- Exports -----------------------------------------------------------

    def export_page(
        self,
        resource: Resource | str,
        *,
        page: int = 1,
        limit: int = DEFAULT_PAGE_SIZE,
        include: Sequence[str] = (),
    ) -> Page[Any]:
        """Fetch one page of an export; ``GET /api/v1/{resource}``.

        ``resource`` is a ``Resource`` or its path, such as ``progress-courses``.
        ``limit`` is from 1 to 100. ``include`` names the users' relations
        (``USER_INCLUDES``); the server raises ``BadRequestError`` for others.
        """
        call = _export_call(resource, page, limit, include)
        return parse_page(Resource(resource), self._transport.request(call).json())

    def users(
        self,
        *,
        page: int = 1,
        limit: int = DEFAULT_PAGE_SIZE,
        include: Sequence[str] = (),
    ) -> Page[User]:
        """Fetch one page of users; ``GET /api/v1/users``."""
        return self.export_page(Resource.USERS, page=page, limit=limit, include=include)

    def topics(self, *, page: int = 1, limit: int = DEFAULT_PAGE_SIZE) -> Page[Topic]:
        """Fetch one page of topics; ``GET /api/v1/topics``."""
        return self.export_page(Resource.TOPICS, page=page, limit=limit)

    def courses(self, *, page: int = 1, limit: int = DEFAULT_PAGE_SIZE) -> Page[Course]:
        """Fetch one page of courses; ``GET /api/v1/courses``."""
        return self.export_page(Resource.COURSES, page=page, limit=limit)

    def progress_courses(
        self, *, page: int = 1, limit: int = DEFAULT_PAGE_SIZE
    ) -> Page[CourseProgress]:
        """Fetch one page of course progress; ``GET /api/v1/progress-courses``."""
        return self.export_page(Resource.COURSE_PROGRESS, page=page, limit=limit)

    def certifications(
        self, *, page: int = 1, limit: int = DEFAULT_PAGE_SIZE
    ) -> Page[Certification]:
        """Fetch one page of certifications; ``GET /api/v1/certifications``."""
        return self.export_page(Resource.CERTIFICATIONS, page=page, limit=limit)

    def progress_certifications(
        self, *, page: int = 1, limit: int = DEFAULT_PAGE_SIZE
    ) -> Page[CertificationProgress]:
        """Fetch one page of certification progress; ``GET /api/v1/progress-certifications``."""
        return self.export_page(Resource.CERTIFICATION_PROGRESS, page=page, limit=limit)

    def iter_raw_pages(
        self,
        resource: Resource | str,
        *,
        limit: int = WALK_PAGE_SIZE,
        include: Sequence[str] = (),
    ) -> Iterator[dict[str, Any]]:
        """Yield every page of an export as the decoded JSON body, following ``links.next``.

        The bodies keep every field exactly as the server sent it, which the
        command line's export writes out. Each page request is retried as the
        ``RetryPolicy`` allows, so a server restart shorter than the retries
        does not end the walk.
        """
        first = _export_call(resource, None, limit, include)
        yield from self._walk(first, _items_of_export)

    def iter_pages(
        self,
        resource: Resource | str,
        *,
        limit: int = WALK_PAGE_SIZE,
        include: Sequence[str] = (),
    ) -> Iterator[Page[Any]]:
        """Yield every page of an export, parsed into the resource's models."""
        for body in self.iter_raw_pages(resource, limit=limit, include=include):
            yield parse_page(Resource(resource), body)

    def iter_users(
        self, *, include: Sequence[str] = (), limit: int = WALK_PAGE_SIZE
    ) -> Iterator[User]:
        """Yield every user of the tenant, walking all pages."""
        return cast(Iterator[User], self._iter_items(Resource.USERS, limit, include))

    def iter_topics(self, *, limit: int = WALK_PAGE_SIZE) -> Iterator[Topic]:
        """Yield every topic, walking all pages."""
        return cast(Iterator[Topic], self._iter_items(Resource.TOPICS, limit, ()))

    def iter_courses(self, *, limit: int = WALK_PAGE_SIZE) -> Iterator[Course]:
        """Yield every course, walking all pages."""
        return cast(Iterator[Course], self._iter_items(Resource.COURSES, limit, ()))

    def iter_progress_courses(
        self, *, limit: int = WALK_PAGE_SIZE
    ) -> Iterator[CourseProgress]:
        """Yield every course progress row, walking all pages."""
        items = self._iter_items(Resource.COURSE_PROGRESS, limit, ())
        return cast(Iterator[CourseProgress], items)

    def iter_certifications(
        self, *, limit: int = WALK_PAGE_SIZE
    ) -> Iterator[Certification]:
        """Yield every certification, walking all pages."""
        items = self._iter_items(Resource.CERTIFICATIONS, limit, ())
        return cast(Iterator[Certification], items)

    def iter_progress_certifications(
        self, *, limit: int = WALK_PAGE_SIZE
    ) -> Iterator[CertificationProgress]:
        """Yield every certification progress row, walking all pages."""
        items = self._iter_items(Resource.CERTIFICATION_PROGRESS, limit, ())
        return cast(Iterator[CertificationProgress], items)

    def _iter_items(
        self, resource: Resource, limit: int, include: Sequence[str]
    ) -> Iterator[Any]:
        for page in self.iter_pages(resource, limit=limit, include=include):
            yield from page.data

    def _walk(self, first: Call, items_of: ItemsOf) -> Iterator[dict[str, Any]]:
        links = _PageLinks(self.base_url)
        call: Call | None = first
        while call is not None:
            body = self._transport.request(call).json()
            yield body
            call = links.next_call(body, items_of(body))


class AsyncClient:
    """An asyncio client of the Open API for one tenant.

    It takes the same arguments as ``Client``, with an ``httpx.AsyncClient``
    as ``http_client``. Its methods are those of ``Client`` as coroutines, and
    its ``iter_*`` and ``watch_import`` methods return async iterators. A client is safe to share
    between the tasks of one event loop.
    """

    def __init__(
        self,
        base_url: str,
        credentials: Credentials | None = None,
        *,
        access_token: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        refresh_margin: float | None = None,
        token_store: TokenStore | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.retry = retry or RetryPolicy()
        tokens, self._tokens = _token_source(
            credentials, access_token, self.retry, refresh_margin, token_store
        )
        self._transport = AsyncTransport(
            base_url,
            self.retry,
            tokens,
            timeout=timeout,
            headers={"User-Agent": _user_agent()},
            http=http_client,
        )
        self.base_url = self._transport.base_url

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connections (unless ``http_client`` came from the caller)."""
        await self._transport.close()

    async def authenticate(self) -> Token:
        """Take a new token with the credentials' grant; see ``Client.authenticate``."""
        if self._tokens is None:
            raise ValueError("the client was created without credentials")
        return await self._transport.run(self._tokens.grant_flow())

    async def import_users(
        self, file: FileSource, *, filename: str | None = None
    ) -> ImportJob:
        """Upload a CSV or XLSX file of users; see ``Client.import_users``."""
        call = Call("POST", f"{API_PREFIX}/import", upload=_upload(file, filename))
        return _job_of(await self._transport.request(call))

    async def import_status(self, job: JobReference = LATEST) -> ImportJob:
        """Fetch a job's status; see ``Client.import_status``."""
        call = Call("GET", _job_path(job, "status"))
        return _job_of(await self._transport.request(call))

    async def import_errors(
        self, job: JobReference = LATEST, *, page: int = 1, limit: int = WALK_PAGE_SIZE
    ) -> RowErrorPage:
        """Fetch one page of a job's row errors; see ``Client.import_errors``."""
        call = Call(
            "GET", _job_path(job, "errors"), params=_page_params(page, limit, ())
        )
        return RowErrorPage.model_validate((await self._transport.request(call)).json())

    async def iter_import_errors(
        self, job: JobReference = LATEST, *, limit: int = WALK_PAGE_SIZE
    ) -> AsyncIterator[RowError]:
        """Yield every row error of a job; see ``Client.iter_import_errors``."""
        first = Call(
            "GET", _job_path(job, "errors"), params=_page_params(None, limit, ())
        )
        async for body in self._walk(first, _items_of_error_page):
            for item in _items_of_error_page(body):
                yield RowError.model_validate(item)

    async def watch_import(
        self,
        job: JobReference = LATEST,
        *,
        interval: float = DEFAULT_POLL_INTERVAL_SECONDS,
        timeout: float | None = None,
    ) -> AsyncIterator[ImportJob]:
        """Yield a job's status at each poll until it has finished; see ``Client.watch_import``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        status = await self.import_status(job)
        delays = _poll_delays(interval)
        while True:
            yield status
            if status.finished:
                return
            delay = next(delays)
            if deadline is not None and time.monotonic() + delay > deadline:
                raise WaitTimeoutError(
                    f"the import job {status.uuid} was still running after {timeout} s",
                    status,
                )
            await asyncio.sleep(delay)
            status = await self.import_status(status.uuid)

    async def wait_for_import(
        self,
        job: JobReference = LATEST,
        *,
        interval: float = DEFAULT_POLL_INTERVAL_SECONDS,
        timeout: float | None = None,
    ) -> ImportJob:
        """Poll a job until it has finished; see ``Client.wait_for_import``."""
        final: ImportJob | None = None
        async for status in self.watch_import(job, interval=interval, timeout=timeout):
            final = status
        assert final is not None
        return final

    async def delete_users(self, emails: Iterable[str]) -> None:
        """Deactivate users by email, all or nothing; see ``Client.delete_users``."""
        await self._transport.request(_delete_call(emails))

    async def export_page(
        self,
        resource: Resource | str,
        *,
        page: int = 1,
        limit: int = DEFAULT_PAGE_SIZE,
        include: Sequence[str] = (),
    ) -> Page[Any]:
        """Fetch one page of an export; see ``Client.export_page``."""
        call = _export_call(resource, page, limit, include)
        body = (await self._transport.request(call)).json()
        return parse_page(Resource(resource), body)

    async def users(
        self,
        *,
        page: int = 1,
        limit: int = DEFAULT_PAGE_SIZE,
        include: Sequence[str] = (),
    ) -> Page[User]:
        """Fetch one page of users; ``GET /api/v1/users``."""
        return await self.export_page(
            Resource.USERS, page=page, limit=limit, include=include
        )

    async def topics(
        self, *, page: int = 1, limit: int = DEFAULT_PAGE_SIZE
    ) -> Page[Topic]:
        """Fetch one page of topics; ``GET /api/v1/topics``."""
        return await self.export_page(Resource.TOPICS, page=page, limit=limit)

    async def courses(
        self, *, page: int = 1, limit: int = DEFAULT_PAGE_SIZE
    ) -> Page[Course]:
        """Fetch one page of courses; ``GET /api/v1/courses``."""
        return await self.export_page(Resource.COURSES, page=page, limit=limit)

    async def progress_courses(
        self, *, page: int = 1, limit: int = DEFAULT_PAGE_SIZE
    ) -> Page[CourseProgress]:
        """Fetch one page of course progress; ``GET /api/v1/progress-courses``."""
        return await self.export_page(Resource.COURSE_PROGRESS, page=page, limit=limit)

    async def certifications(
        self, *, page: int = 1, limit: int = DEFAULT_PAGE_SIZE
    ) -> Page[Certification]:
        """Fetch one page of certifications; ``GET /api/v1/certifications``."""
        return await self.export_page(Resource.CERTIFICATIONS, page=page, limit=limit)

    async def progress_certifications(
        self, *, page: int = 1, limit: int = DEFAULT_PAGE_SIZE
    ) -> Page[CertificationProgress]:
        """Fetch one page of certification progress; ``GET /api/v1/progress-certifications``."""
        return await self.export_page(
            Resource.CERTIFICATION_PROGRESS, page=page, limit=limit
        )

    async def iter_raw_pages(
        self,
        resource: Resource | str,
        *,
        limit: int = WALK_PAGE_SIZE,
        include: Sequence[str] = (),
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield every page of an export as JSON; see ``Client.iter_raw_pages``."""
        first = _export_call(resource, None, limit, include)
        async for body in self._walk(first, _items_of_export):
            yield body

    async def iter_pages(
        self,
        resource: Resource | str,
        *,
        limit: int = WALK_PAGE_SIZE,
        include: Sequence[str] = (),
    ) -> AsyncIterator[Page[Any]]:
        """Yield every page of an export, parsed into the resource's models."""
        async for body in self.iter_raw_pages(resource, limit=limit, include=include):
            yield parse_page(Resource(resource), body)

    def iter_users(
        self, *, include: Sequence[str] = (), limit: int = WALK_PAGE_SIZE
    ) -> AsyncIterator[User]:
        """Yield every user of the tenant, walking all pages."""
        return self._iter_items(Resource.USERS, limit, include)

    def iter_topics(self, *, limit: int = WALK_PAGE_SIZE) -> AsyncIterator[Topic]:
        """Yield every topic, walking all pages."""
        return self._iter_items(Resource.TOPICS, limit, ())

    def iter_courses(self, *, limit: int = WALK_PAGE_SIZE) -> AsyncIterator[Course]:
        """Yield every course, walking all pages."""
        return self._iter_items(Resource.COURSES, limit, ())

    def iter_progress_courses(
        self, *, limit: int = WALK_PAGE_SIZE
    ) -> AsyncIterator[CourseProgress]:
        """Yield every course progress row, walking all pages."""
        return self._iter_items(Resource.COURSE_PROGRESS, limit, ())

    def iter_certifications(
        self, *, limit: int = WALK_PAGE_SIZE
    ) -> AsyncIterator[Certification]:
        """Yield every certification, walking all pages."""
        return self._iter_items(Resource.CERTIFICATIONS, limit, ())

    def iter_progress_certifications(
        self, *, limit: int = WALK_PAGE_SIZE
    ) -> AsyncIterator[CertificationProgress]:
        """Yield every certification progress row, walking all pages."""
        return self._iter_items(Resource.CERTIFICATION_PROGRESS, limit, ())

    async def _iter_items(
        self, resource: Resource, limit: int, include: Sequence[str]
    ) -> AsyncIterator[Any]:
        async for page in self.iter_pages(resource, limit=limit, include=include):
            for item in page.data:
                yield item

    async def _walk(
        self, first: Call, items_of: ItemsOf
    ) -> AsyncIterator[dict[str, Any]]:
        links = _PageLinks(self.base_url)
        call: Call | None = first
        while call is not None:
            body = (await self._transport.request(call)).json()
            yield body
            call = links.next_call(body, items_of(body))
