"""The import counters of /metrics: rows by outcome, report deliveries by outcome.

The counters belong to the test process, so each test compares the values
before and after its own jobs.
"""

from __future__ import annotations

import time

import httpx

from maizeplus.settings import Settings
from tests.imports.conftest import MailSink
from tests.imports.helpers import upload_bytes, wait_for_job
from tests.scrape import Samples, scrape, value
from tests.support import LiveServer, TenantCredentials, free_port, make_tenant

ROWS = "maizeplus_import_rows_total"
REPORTS = "maizeplus_import_reports_total"

FIRST = (
    b"email;first_name;last_name\n"
    b"anna@example.com;Anna;Verdi\n"
    b"luca@example.com;Luca;Neri\n"
    b"not-an-email;Bad;Row\n"
)
SECOND = (
    b"email;first_name;last_name\n"
    b"anna@example.com;Anna;Rossi\n"  # changed last name
    b"luca@example.com;Luca;Neri\n"  # the same as before
    b"sara@example.com;Sara;Galli\n"
)
ONE_ROW = b"email;first_name;last_name\nanna@example.com;Anna;Verdi\n"


def _rows(samples: Samples) -> dict[str, float]:
    return {
        outcome: value(samples, ROWS, outcome=outcome)
        for outcome in ("created", "updated", "unchanged", "failed")
    }


def _import(client: httpx.Client, tenant: TenantCredentials, content: bytes) -> None:
    job_uuid = upload_bytes(client, tenant, content).json()["data"]["uuid"]
    wait_for_job(client, tenant, job_uuid)


def _wait_for_reports(
    client: httpx.Client, before: Samples, expected: dict[str, float]
) -> dict[str, float]:
    """Scrape until the report counters have grown by ``expected``; return the growth."""
    deadline = time.monotonic() + 20
    while True:
        after = scrape(client)
        grown = {
            outcome: value(after, REPORTS, outcome=outcome)
            - value(before, REPORTS, outcome=outcome)
            for outcome in ("sent", "skipped", "retried", "failed")
        }
        if all(grown[outcome] >= count for outcome, count in expected.items()):
            return grown
        if time.monotonic() > deadline:
            raise AssertionError(f"report counters grew by {grown}, not {expected}")
        time.sleep(0.1)


def test_rows_counted_by_outcome(api: httpx.Client, tenant: TenantCredentials) -> None:
    start = _rows(scrape(api))
    _import(api, tenant, FIRST)
    middle = _rows(scrape(api))
    _import(api, tenant, SECOND)
    end = _rows(scrape(api))

    first = {outcome: middle[outcome] - start[outcome] for outcome in start}
    second = {outcome: end[outcome] - middle[outcome] for outcome in start}
    assert first == {"created": 2, "updated": 0, "unchanged": 0, "failed": 1}
    assert second == {"created": 1, "updated": 1, "unchanged": 1, "failed": 0}


def test_report_skipped_counted(api: httpx.Client, tenant: TenantCredentials) -> None:
    before = scrape(api)
    _import(api, tenant, ONE_ROW)

    grown = _wait_for_reports(api, before, {"skipped": 1})

    assert grown == {"sent": 0, "skipped": 1, "retried": 0, "failed": 0}


def test_report_sent_counted(
    settings: Settings, database_url: str, smtp_server: MailSink
) -> None:
    mailing = settings.model_copy(
        update={"smtp_host": smtp_server.host, "smtp_port": smtp_server.port}
    )
    tenant = make_tenant(database_url, report_to=("hr@example.com",))
    server = LiveServer(mailing).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            before = scrape(client)
            _import(client, tenant, ONE_ROW)
            grown = _wait_for_reports(client, before, {"sent": 1})
    finally:
        server.stop()

    assert grown == {"sent": 1, "skipped": 0, "retried": 0, "failed": 0}
    assert len(smtp_server.messages) == 1


def test_report_retries_counted(settings: Settings, database_url: str) -> None:
    mail_server_down = settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": free_port(),
            "report_max_attempts": 2,
            "report_retry_seconds": 0,
        }
    )
    tenant = make_tenant(database_url, report_to=("hr@example.com",))
    server = LiveServer(mail_server_down).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            before = scrape(client)
            _import(client, tenant, ONE_ROW)
            grown = _wait_for_reports(client, before, {"retried": 1, "failed": 1})
    finally:
        server.stop()

    assert grown == {"sent": 0, "skipped": 0, "retried": 1, "failed": 1}
