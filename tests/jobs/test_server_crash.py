"""``maizeplus serve`` killed in the middle of an import, then started again."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.imports.conftest import MailSink
from tests.imports.helpers import (
    job_end_state,
    numbered_users_file,
    upload_bytes,
    wait_for_job,
)
from tests.jobs.conftest import wait_for_mails, wait_until_applying
from tests.jobs.processes import ServerProcess, ServiceProcess
from tests.support import make_tenant

ROWS = 12_000


def test_killed_server_resumes_after_restart(
    environment: dict[str, str],
    processes: list[ServiceProcess],
    tmp_path: Path,
    database_url: str,
    smtp_server: MailSink,
) -> None:
    interrupted = make_tenant(database_url, report_to=("hr@interrupted.example.com",))
    reference = make_tenant(database_url, report_to=("hr@reference.example.com",))
    content = numbered_users_file(ROWS)

    first = ServerProcess(environment, tmp_path / "first.log")
    processes.append(first)
    first.start()
    with httpx.Client(base_url=first.url, timeout=60) as api:
        job_uuid = upload_bytes(api, interrupted, content).json()["data"]["uuid"]
        killed_at = wait_until_applying(api, interrupted, job_uuid)
    first.kill()

    second = ServerProcess(environment, tmp_path / "second.log")
    processes.append(second)
    second.start()
    with httpx.Client(base_url=second.url, timeout=60) as api:
        wait_for_job(api, interrupted, job_uuid, timeout=240)
        resumed = job_end_state(api, interrupted, job_uuid)
        reference_uuid = upload_bytes(api, reference, content).json()["data"]["uuid"]
        wait_for_job(api, reference, reference_uuid, timeout=240)
        uninterrupted = job_end_state(api, reference, reference_uuid)
    wait_for_mails(smtp_server, 2)

    assert killed_at["status"] == "running"
    assert resumed == uninterrupted
    assert resumed[0] == "completed_with_errors"
    assert sorted(message["To"] for message in smtp_server.messages) == [
        "hr@interrupted.example.com",
        "hr@reference.example.com",
    ]
