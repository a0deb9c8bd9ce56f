"""Fixtures of the process tests: a mail sink, short timeouts and cleanup by pid."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.imports.conftest import MailSink, smtp_server  # noqa: F401 - a fixture
from tests.imports.helpers import FINAL_STATUSES
from tests.jobs.processes import ServiceProcess, service_environment
from tests.support import TenantCredentials

# Small chunks give a crash many places to land; the short stall timeout lets
# another worker take over within seconds.
CHUNK_ROWS = 200
STALLED_AFTER_SECONDS = 4
GRACE_SECONDS = 10


@pytest.fixture
def environment(
    database_url: str,
    tmp_path: Path,
    smtp_server: MailSink,  # noqa: F811
) -> dict[str, str]:
    return service_environment(
        database_url,
        import_chunk_rows=CHUNK_ROWS,
        import_work_dir=tmp_path / "work",
        worker_heartbeat_seconds=1,
        worker_stalled_after_seconds=STALLED_AFTER_SECONDS,
        worker_shutdown_grace_seconds=GRACE_SECONDS,
        worker_concurrency=1,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        report_retry_seconds=0.2,
    )


@pytest.fixture
def processes() -> Iterator[list[ServiceProcess]]:
    """Processes a test started; each one still running is stopped afterwards."""
    started: list[ServiceProcess] = []
    yield started
    for process in started:
        process.stop()


def job_status(api: httpx.Client, tenant: TenantCredentials, job_uuid: str) -> dict:  # type: ignore[type-arg]
    response = api.get(f"/api/v1/import/{job_uuid}/status", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


def wait_until_applying(
    api: httpx.Client, tenant: TenantCredentials, job_uuid: str, timeout: float = 60
) -> dict:  # type: ignore[type-arg]
    """Wait until the job has committed its first chunk, and return its status."""
    deadline = time.monotonic() + timeout
    while True:
        status = job_status(api, tenant, job_uuid)
        assert status["status"] not in FINAL_STATUSES, f"the job ended first: {status}"
        if status["summary"]["processed_rows"] > 0:
            return status
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.01)


def wait_for_mails(sink: MailSink, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while len(sink.messages) < count:
        assert time.monotonic() < deadline, (
            f"{len(sink.messages)} of {count} mails arrived"
        )
        time.sleep(0.05)
    # A duplicate would arrive right after the first delivery.
    time.sleep(1)
