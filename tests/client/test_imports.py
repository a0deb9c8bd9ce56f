"""Uploading files and following import jobs with the client, against the live server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from maizeplus.client import (
    AsyncClient,
    Client,
    Credentials,
    ImportJob,
    JobStatus,
    NotFoundError,
    ValidationFailedError,
    WaitTimeoutError,
)
from maizeplus.settings import Settings
from tests.client.conftest import FAST_RETRY
from tests.support import LiveServer

POSTMAN_DIR = Path(__file__).parents[1] / "data" / "postman"
HEADER = (
    "email;cid;first_name;last_name;enabled;language_id;country_id;"
    "business_unit_code;business_unit_name;organizational_unit_code;"
    "organizational_unit_name;parent_organizational_unit_code"
)
UNITS = "RTL-EU;Retail Europe;RTL-EU-MI;Milan Branch;"
INVALID_ROWS = 5


def users_file(folder: Path, valid: int, invalid: int) -> Path:
    """Write a CSV of ``valid`` good rows followed by ``invalid`` rows without an email."""
    lines = [HEADER]
    lines += [
        f"client-{index}@example.com;C-{index};Anna;Verdi;true;it;IT;{UNITS}"
        for index in range(valid)
    ]
    lines += [f";X-{index};Anna;Verdi;true;it;IT;{UNITS}" for index in range(invalid)]
    path = folder / f"users-{valid}-{invalid}.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_import_and_wait(client: Client) -> None:
    job = client.import_users(POSTMAN_DIR / "import-users.csv")

    final = client.wait_for_import(job, interval=0.2)

    assert job.status in {JobStatus.RUNNING, JobStatus.COMPLETED}
    assert final.uuid == job.uuid
    assert final.status == JobStatus.COMPLETED
    assert final.finished
    assert final.finished_at is not None
    assert final.summary is not None
    assert final.summary.created == 3
    assert final.file is not None
    assert final.file.name == "import-users.csv"
    assert list(client.iter_import_errors(final)) == []
    assert client.import_status().uuid == job.uuid

    with (POSTMAN_DIR / "import-users.xlsx").open("rb") as stream:
        from_stream = client.import_users(stream)
    xlsx = client.wait_for_import(from_stream.uuid, interval=0.2)

    assert xlsx.status == JobStatus.COMPLETED
    assert xlsx.file is not None
    assert xlsx.file.name == "import-users.xlsx"
    assert xlsx.file.format == "xlsx"


def test_row_errors_and_failed_job(client: Client, tmp_path: Path) -> None:
    path = users_file(tmp_path, valid=2, invalid=INVALID_ROWS)

    job = client.import_users(path.read_bytes(), filename="with-errors.csv")
    statuses = list(client.watch_import(job, interval=0.2))
    errors = list(client.iter_import_errors(job, limit=2))
    first_page = client.import_errors(job, page=1, limit=2)

    final = statuses[-1]
    assert all(not status.finished for status in statuses[:-1])
    assert final.status == JobStatus.COMPLETED_WITH_ERRORS
    assert final.summary is not None
    assert final.summary.failed == INVALID_ROWS
    assert [error.row for error in errors] == list(range(4, 4 + INVALID_ROWS))
    assert errors[0].errors == {"email": ["The email field is required."]}
    assert errors[0].validated_at.tzinfo is not None
    assert first_page.meta.total == INVALID_ROWS
    assert first_page.meta.last_page == 3
    assert len(first_page.data.errors) == 2
    assert first_page.links.next is not None

    header_only = tmp_path / "header-only.csv"
    header_only.write_text(HEADER + "\n", encoding="utf-8")
    failed = client.wait_for_import(client.import_users(header_only), interval=0.2)

    assert failed.status == JobStatus.FAILED
    assert failed.message == "The file has no data rows below the header row."
    assert [error.row for error in client.iter_import_errors(failed)] == [1]


def test_errors_before_any_job(client: Client) -> None:
    with pytest.raises(ValidationFailedError) as rejected:
        client.import_users(b"\x89PNG\r\n\x1a\n not a table", filename="picture.png")
    with pytest.raises(NotFoundError) as unknown:
        client.import_status("00000000-0000-0000-0000-000000000000")
    with pytest.raises(NotFoundError) as latest:
        client.import_status("latest")
    # A reference with a slash must not reach another route.
    with pytest.raises(NotFoundError) as traversal:
        client.import_status("../../users")

    assert rejected.value.status_code == 422
    assert list(rejected.value.errors) == ["file"]
    assert rejected.value.message == rejected.value.errors["file"][0]
    assert unknown.value.status_code == 404
    assert unknown.value.message == "Import job not found."
    assert latest.value.message == "Import job not found."
    assert traversal.value.url.endswith("/import/..%2F..%2Fusers/status")


@pytest.fixture
def idle_server(settings: Settings) -> Iterator[LiveServer]:
    """A server that accepts uploads but runs no job, so every job stays running."""
    server = LiveServer(settings.model_copy(update={"embedded_worker": False})).start()
    yield server
    server.stop()


def test_wait_timeout_keeps_last_status(
    idle_server: LiveServer, credentials: Credentials
) -> None:
    with Client(idle_server.url, credentials, retry=FAST_RETRY) as client:
        job = client.import_users(POSTMAN_DIR / "import-users.csv")
        with pytest.raises(WaitTimeoutError) as raised:
            client.wait_for_import(job, interval=0.1, timeout=0.5)

    async def wait_async() -> None:
        async with AsyncClient(idle_server.url, credentials) as async_client:
            await async_client.wait_for_import(job, interval=0.1, timeout=0.3)

    with pytest.raises(WaitTimeoutError) as raised_async:
        asyncio.run(wait_async())

    assert isinstance(raised.value.job, ImportJob)
    assert raised.value.job.uuid == job.uuid
    assert raised.value.job.status == JobStatus.RUNNING
    assert "was still running after 0.5 s" in str(raised.value)
    assert raised_async.value.job.uuid == job.uuid
