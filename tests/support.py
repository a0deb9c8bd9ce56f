"""Helpers for tests: throwaway databases, a live server, tenants with credentials."""

from __future__ import annotations

import asyncio
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import psycopg
import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.app import create_app
from maizeplus.auth.models import AccessToken
from maizeplus.auth.service import create_account, create_client
from maizeplus.auth.tokens import new_token, token_digest
from maizeplus.db.engine import create_api_engine, create_session_factory
from maizeplus.db.migrate import upgrade_database
from maizeplus.kit.clock import utcnow
from maizeplus.settings import Settings
from maizeplus.tenants.service import TenantOptions, create_tenant
from tests.hygiene import ResponseRecorder, remember_secret

T = TypeVar("T")

# Rate limits high enough for any test that is not about them, set by the
# ``settings`` fixture and by the processes of tests/jobs. The tests of the
# limits and the golden token table restore the defaults.
TEST_RATE_LIMIT_PER_MINUTE = 1_000_000


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql", "postgres:"))


def _admin_connection(server_url: str) -> psycopg.Connection:
    url = make_url(server_url).set(drivername="postgresql", database="postgres")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


class DatabaseTemplate:
    """One migrated database per test run, copied for every test that needs one."""

    def __init__(self, server_url: str | None, work_dir: Path) -> None:
        self.server_url = server_url
        self.work_dir = work_dir
        self.name = f"maizeplus_template_{uuid.uuid4().hex[:12]}"
        if server_url is None:
            self.template_file = work_dir / "template.db"
            upgrade_database(f"sqlite:///{self.template_file}")
        else:
            with _admin_connection(server_url) as admin:
                admin.execute(f'CREATE DATABASE "{self.name}"')
            upgrade_database(self._url_of(self.name))

    def _url_of(self, database: str) -> str:
        assert self.server_url is not None
        url = make_url(self.server_url).set(database=database)
        return url.render_as_string(hide_password=False)

    @contextmanager
    def copy(self) -> Iterator[str]:
        """Yield the URL of a fresh copy of the migrated database; drop it afterwards."""
        if self.server_url is None:
            target = self.work_dir / f"test-{uuid.uuid4().hex}.db"
            shutil.copyfile(self.template_file, target)
            try:
                yield f"sqlite:///{target}"
            finally:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{target}{suffix}").unlink(missing_ok=True)
            return
        name = f"maizeplus_test_{uuid.uuid4().hex[:16]}"
        with _admin_connection(self.server_url) as admin:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"')
        try:
            yield self._url_of(name)
        finally:
            with _admin_connection(self.server_url) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def drop(self) -> None:
        if self.server_url is not None:
            with _admin_connection(self.server_url) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def run_async(database_url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in a committed session on the database, from synchronous test code."""

    async def runner() -> T:
        engine = create_api_engine(database_url, pool_size=1)
        try:
            async with create_session_factory(engine)() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    return asyncio.run(runner())


@dataclass(frozen=True)
class TenantCredentials:
    """A tenant with one client, one account and a ready access token."""

    tenant_id: int
    name: str
    client_id: int
    client_secret: str
    username: str
    password: str
    access_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.access_token}",
            "Accept": "application/json",
        }


def make_tenant(
    database_url: str,
    name: str | None = None,
    options: TenantOptions | None = None,
    report_to: tuple[str, ...] = (),
) -> TenantCredentials:
    """Create a tenant with a client, an account and an access token valid for an hour."""
    tenant_name = name or f"tenant-{uuid.uuid4().hex[:8]}"
    username = f"api@{tenant_name}.example.com"
    password = "Corr3ct-Horse-Battery"
    token = new_token()

    async def work(session: AsyncSession) -> TenantCredentials:
        tenant = await create_tenant(
            session,
            tenant_name,
            options or TenantOptions(language_code="it"),
            report_to,
        )
        client = await create_client(session, tenant)
        account = await create_account(session, tenant, username, password)
        now = utcnow()
        session.add(
            AccessToken(
                tenant_id=tenant.id,
                client_id=client.client_id,
                account_id=account.id,
                digest=token_digest(token),
                scopes="*",
                expires_at=now + timedelta(hours=1),
                created_at=now,
            )
        )
        for secret in (client.client_secret, password, token):
            remember_secret(secret)
        return TenantCredentials(
            tenant_id=tenant.id,
            name=tenant_name,
            client_id=client.client_id,
            client_secret=client.client_secret,
            username=username,
            password=password,
            access_token=token,
        )

    return run_async(database_url, work)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LiveServer:
    """The real application served by uvicorn on a loopback port, in a thread.

    ``ResponseRecorder`` checks every response it sends (see tests/hygiene.py).
    """

    def __init__(
        self, settings: Settings, port: int | None = None, app: FastAPI | None = None
    ) -> None:
        """Serve ``app``, by default the application built for ``settings``."""
        self.settings = settings
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            ResponseRecorder(app or create_app(settings)),
            host="127.0.0.1",
            port=self.port,
            log_config=None,
            lifespan="on",
            # As `maizeplus serve` does: X-Forwarded-For is the application's
            # to read, from MAIZEPLUS_TRUSTED_PROXIES only.
            proxy_headers=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the test server on port {self.port} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)
