"""The report mail of a finished job, read back from a real SMTP server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.imports.models import ImportJob
from maizeplus.imports.report import delivery_lease
from maizeplus.settings import Settings
from maizeplus.tenants.service import TenantOptions
from tests.imports.conftest import MailSink
from tests.imports.helpers import all_errors, upload_bytes, wait_for_job
from tests.support import LiveServer, free_port, make_tenant, run_async

CONTENT = (
    b"email;first_name;last_name;enabled\n"
    b"anna.verdi@example.com;Anna;Verdi;true\n"
    b"luca.bianchi@foo.invalid;Luca;Bianchi;true\n"
)


@pytest.fixture
def mail_api(settings: Settings, smtp_server: MailSink) -> Iterator[httpx.Client]:
    mailing = settings.model_copy(
        update={"smtp_host": smtp_server.host, "smtp_port": smtp_server.port}
    )
    server = LiveServer(mailing).start()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client
    server.stop()


def _wait_for_mail(sink: MailSink, count: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while len(sink.messages) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(sink.messages)} of {count} mails arrived")
        time.sleep(0.05)


def _report_state(database_url: str, job_uuid: str) -> tuple[str, int, str | None]:
    async def work(session: AsyncSession) -> tuple[str, int, str | None]:
        job = (
            await session.execute(select(ImportJob).where(ImportJob.uuid == job_uuid))
        ).scalar_one()
        return job.report_status, job.report_attempts, job.report_error

    return run_async(database_url, work)


def test_report_reaches_each_receiver(
    mail_api: httpx.Client, database_url: str, smtp_server: MailSink
) -> None:
    tenant = make_tenant(
        database_url,
        name="acme",
        options=TenantOptions(language_code="it"),
        report_to=("hr@acme.example.com", "it@acme.example.com"),
    )

    response = upload_bytes(mail_api, tenant, CONTENT)
    job = wait_for_job(mail_api, tenant, response.json()["data"]["uuid"])
    _wait_for_mail(smtp_server, 2)
    errors = all_errors(mail_api, tenant, job["uuid"])

    receivers = sorted(message["To"] for message in smtp_server.messages)
    message = smtp_server.messages[0]
    attachment = next(message.iter_attachments())
    body = message.get_body(("plain",))
    assert body is not None
    assert receivers == ["hr@acme.example.com", "it@acme.example.com"]
    assert "acme" in message["Subject"]
    assert job["uuid"] in message["Subject"]
    assert "completed with errors" in message["Subject"]
    assert "Users created: 1" in body.get_content()
    assert "Rows reported: 1" in body.get_content()
    assert attachment.get_filename() == "errors.json"
    assert json.loads(attachment.get_content()) == errors
    assert _report_state(database_url, job["uuid"])[0] == "sent"


def test_report_retries_when_server_down(settings: Settings, database_url: str) -> None:
    down = settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": free_port(),
            "report_max_attempts": 2,
            "report_retry_seconds": 0,
        }
    )
    tenant = make_tenant(database_url, report_to=("hr@example.com",))
    server = LiveServer(down).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            response = upload_bytes(client, tenant, CONTENT)
            job = wait_for_job(client, tenant, response.json()["data"]["uuid"])
            deadline = time.monotonic() + 20
            while _report_state(database_url, job["uuid"])[0] == "pending":
                assert time.monotonic() < deadline, "report still pending"
                time.sleep(0.1)
    finally:
        server.stop()

    status, attempts, error = _report_state(database_url, job["uuid"])
    assert job["status"] == "completed_with_errors"
    assert status == "failed"
    assert attempts == 2
    assert error is not None


def test_report_skipped_without_smtp(api: httpx.Client, database_url: str) -> None:
    tenant = make_tenant(database_url, report_to=("hr@example.com",))

    response = upload_bytes(api, tenant, CONTENT)
    job = wait_for_job(api, tenant, response.json()["data"]["uuid"])
    deadline = time.monotonic() + 10
    while _report_state(database_url, job["uuid"])[0] == "pending":
        assert time.monotonic() < deadline
        time.sleep(0.05)

    assert _report_state(database_url, job["uuid"])[0] == "skipped"


def test_claim_lasts_the_longest_delivery(settings: Settings) -> None:
    slow_server = settings.model_copy(update={"smtp_timeout_seconds": 5.0})

    lease = delivery_lease(slow_server, receivers=20)

    # Four replies before the first message, four per message, and a minute.
    assert lease == timedelta(seconds=5.0 * (4 + 4 * 20) + 60)
