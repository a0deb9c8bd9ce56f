"""Fixtures shared by the whole suite.

Set ``MAIZEPLUS_TEST_DATABASE_URL=postgresql://USER@HOST:PORT/postgres`` to run
the suite on PostgreSQL; each test then gets its own database, created from a
migrated template and dropped afterwards. By default each test gets an SQLite
file copied from a migrated template.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

# Cheap hashes keep the suite fast; the production defaults are in the settings.
os.environ["MAIZEPLUS_PASSWORD_HASH_TIME_COST"] = "1"
os.environ["MAIZEPLUS_PASSWORD_HASH_MEMORY_KIB"] = "64"

import httpx
import pytest

from maizeplus.settings import Settings, get_settings
from tests.hygiene import (
    SECRET_WATCH,
    leaked_secrets,
    take_problems,
    take_process_log_lines,
)
from tests.pg_cluster import ThrowawayCluster
from tests.support import (
    TEST_RATE_LIMIT_PER_MINUTE,
    DatabaseTemplate,
    LiveServer,
    TenantCredentials,
    make_tenant,
)

get_settings.cache_clear()

CASES_DIR = Path(__file__).parent / "data" / "cases"

# The secret scan reads every log line of the service at INFO, the level that
# it runs at by default. The loggers of the libraries keep their levels.
SCANNED_LOGGERS = ("maizeplus", "uvicorn")


def pytest_configure(config: pytest.Config) -> None:
    for name in SCANNED_LOGGERS:
        logger = logging.getLogger(name)
        logger.addHandler(SECRET_WATCH)
        if logger.level == logging.NOTSET or logger.level > logging.INFO:
            logger.setLevel(logging.INFO)


@pytest.fixture(autouse=True)
def response_and_log_hygiene() -> Iterator[None]:
    """Fail a test whose responses or logs break the rules of tests/hygiene.py.

    It runs around every test, with every response of every LiveServer and
    every log line of the service, in this process and in the service
    processes that the test started.
    """
    take_problems()
    SECRET_WATCH.take_lines()
    take_process_log_lines()
    yield
    problems = take_problems()
    lines = SECRET_WATCH.take_lines() + take_process_log_lines()
    leaks = [f"a log line shows a secret: {line}" for line in leaked_secrets(lines)]
    if problems or leaks:
        pytest.fail("\n".join(["Response or log hygiene failed:", *problems, *leaks]))


@pytest.fixture(scope="session")
def database_template(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[DatabaseTemplate]:
    server_url = os.environ.get("MAIZEPLUS_TEST_DATABASE_URL") or None
    template = DatabaseTemplate(server_url, tmp_path_factory.mktemp("databases"))
    yield template
    template.drop()


@pytest.fixture
def database_url(database_template: DatabaseTemplate) -> Iterator[str]:
    with database_template.copy() as url:
        yield url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        password_hash_time_cost=1,
        password_hash_memory_kib=64,
        import_work_dir=tmp_path,
        report_retry_seconds=0.2,
        smtp_host=None,
        rate_limit_api_per_minute=TEST_RATE_LIMIT_PER_MINUTE,
        rate_limit_token_per_minute=TEST_RATE_LIMIT_PER_MINUTE,
    )


@pytest.fixture
def cluster() -> Iterator[ThrowawayCluster]:
    """A PostgreSQL cluster of the test's own, which it may stop and start."""
    cluster = ThrowawayCluster().create()
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    server = LiveServer(settings).start()
    yield server
    server.stop()


@pytest.fixture
def api(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        yield client


@pytest.fixture
def tenant(database_url: str) -> TenantCredentials:
    return make_tenant(database_url)


@pytest.fixture
def other_tenant(database_url: str) -> TenantCredentials:
    return make_tenant(database_url)
