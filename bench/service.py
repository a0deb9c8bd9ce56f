"""A service for a benchmark to measure: a fresh database with a tenant, and a server.

Every benchmark here runs the real ``maizeplus`` commands and server on
loopback, on a database of its own that it drops at the end.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx
import psycopg
from sqlalchemy.engine import make_url

PASSWORD = "bench-Passw0rd-long-enough"
USERNAME = "bench@example.com"
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def maizeplus(environment: dict[str, str], *arguments: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "maizeplus.cli", *arguments],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


class Database:
    """A fresh database for one run: an SQLite file, or a new PostgreSQL database."""

    def __init__(self, server_url: str | None, folder: Path) -> None:
        self.server_url = server_url
        self.name = f"maizeplus_bench_{uuid.uuid4().hex[:10]}"
        if server_url is None:
            self.url = f"sqlite:///{folder / 'bench.db'}"
            return
        with psycopg.connect(self._admin_url(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.name}"')
        self.url = make_url(server_url).set(database=self.name).render_as_string(False)

    def _admin_url(self) -> str:
        assert self.server_url is not None
        return (
            make_url(self.server_url)
            .set(drivername="postgresql", database="postgres")
            .render_as_string(False)
        )

    @property
    def kind(self) -> str:
        return "sqlite" if self.server_url is None else "postgresql"

    def drop(self) -> None:
        if self.server_url is not None:
            with psycopg.connect(self._admin_url(), autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def add_tenant(environment: dict[str, str], name: str, *options: str) -> dict[str, Any]:
    """Create a tenant with both kinds of units, its OAuth client and the API account.

    ``options`` go to ``maizeplus tenant create``. Return the client's
    ``client_id`` and ``client_secret``; the account is ``USERNAME`` with
    ``PASSWORD``.
    """
    maizeplus(
        environment,
        "tenant",
        "create",
        name,
        "--business-units",
        "--organizational-units",
        *options,
    )
    client: dict[str, Any] = json.loads(
        maizeplus(environment, "client", "create", "--tenant", name, "--json")
    )
    maizeplus(
        environment,
        "account",
        "create",
        "--tenant",
        name,
        "--username",
        USERNAME,
        "--password",
        PASSWORD,
        "--json",
    )
    return client


def prepare_tenant(environment: dict[str, str]) -> dict[str, Any]:
    maizeplus(environment, "db", "upgrade")
    return add_tenant(environment, "bench", "--language", "it")


def token(base_url: str, client: dict[str, Any]) -> str:
    response = httpx.post(
        f"{base_url}/oauth/token",
        data={
            "grant_type": "password",
            "client_id": str(client["client_id"]),
            "client_secret": client["client_secret"],
            "username": USERNAME,
            "password": PASSWORD,
            "scope": "*",
        },
        timeout=60,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def start_server(
    environment: dict[str, str],
    port: int,
    *arguments: str,
    log: IO[bytes] | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``maizeplus serve`` on a loopback port and wait until it is healthy.

    The server's output goes to ``log``, or is discarded without one.
    """
    output: IO[bytes] | int = subprocess.DEVNULL if log is None else log
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "maizeplus.cli",
            "serve",
            "--port",
            str(port),
            *arguments,
        ],
        env=environment,
        stdout=output,
        stderr=output,
    )
    try:
        _wait_for_health(port, server)
    except BaseException:
        # Also on Ctrl-C or SIGTERM, so that no server outlives its caller.
        server.kill()
        server.wait()
        raise
    return server


def _wait_for_health(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(
                f"the server on port {port} exited with {server.returncode}"
            )
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            if response.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(
        f"the server on port {port} did not respond to GET /health in 30 s"
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a process that this module started, by its id, and wait for it."""
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class BenchService:
    """A fresh, migrated database with the tenant ``bench`` and its OAuth client."""

    database: Database
    environment: dict[str, str]
    client: dict[str, Any]
    folder: Path


@contextmanager
def fresh_service(
    server_url: str | None, settings: dict[str, str] | None = None
) -> Iterator[BenchService]:
    """Yield a service on a new database (SQLite when ``server_url`` is None); drop it after.

    ``settings`` are extra ``MAIZEPLUS_`` variables for every command and server.
    """
    with tempfile.TemporaryDirectory(prefix="maizeplus-bench-") as folder:
        database = Database(server_url, Path(folder))
        environment = {
            **os.environ,
            "MAIZEPLUS_DATABASE_URL": database.url,
            "MAIZEPLUS_IMPORT_WORK_DIR": folder,
            "MAIZEPLUS_LOG_LEVEL": "WARNING",
            # Benchmarks send far more than the default 60 requests a minute
            # with one token, such as the status polls of an import.
            "MAIZEPLUS_RATE_LIMIT_API_PER_MINUTE": "100000000",
            "MAIZEPLUS_RATE_LIMIT_TOKEN_PER_MINUTE": "100000000",
            **(settings or {}),
        }
        try:
            client = prepare_tenant(environment)
            yield BenchService(database, environment, client, Path(folder))
        finally:
            database.drop()


@contextmanager
def running_server(
    environment: dict[str, str], *arguments: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Yield the base URL and process of a server that stops afterwards."""
    port = free_port()
    server = start_server(environment, port, *arguments)
    try:
        yield f"http://127.0.0.1:{port}", server
    finally:
        stop(server)


def on_fresh_tenant(server_url: str | None, work: Callable[[str, int], T]) -> T:
    """Run ``work(database_url, tenant_id)`` on a new, migrated database with one tenant."""
    with fresh_service(server_url) as service:
        return work(service.database.url, 1)
