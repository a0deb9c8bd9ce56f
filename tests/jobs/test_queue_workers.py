"""Worker processes on one PostgreSQL queue: per-tenant order, SIGKILL, SIGTERM, crashes."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.imports.conftest import MailSink
from tests.imports.helpers import (
    FINAL_STATUSES,
    job_end_state,
    numbered_users_file,
    upload_bytes,
    users_table,
    wait_for_job,
)
from tests.jobs.conftest import (
    CHUNK_ROWS,
    GRACE_SECONDS,
    job_status,
    wait_for_mails,
    wait_until_applying,
)
from tests.jobs.crashing_worker import CRASH_MARK
from tests.jobs.processes import (
    ServerProcess,
    ServiceProcess,
    wait_for_log_event,
    worker_process,
)
from tests.support import TenantCredentials, is_postgres, make_tenant


@pytest.fixture(autouse=True)
def _needs_postgres(database_url: str) -> None:
    if not is_postgres(database_url):
        pytest.skip("the queue workers run on PostgreSQL only")


def _start(processes: list[ServiceProcess], process: ServiceProcess) -> ServiceProcess:
    processes.append(process)
    process.start()
    return process


def _workers(
    processes: list[ServiceProcess],
    environment: dict[str, str],
    tmp_path: Path,
    *names: str,
    module: str = "maizeplus.cli",
) -> list[ServiceProcess]:
    started = []
    for name in names:
        worker = worker_process(
            environment, tmp_path / f"{name}.log", name, module=module
        )
        started.append(_start(processes, worker))
    for worker in started:
        wait_for_log_event(worker, "worker.started")
    return started


def _api(
    processes: list[ServiceProcess], environment: dict[str, str], log_path: Path
) -> ServerProcess:
    server = ServerProcess(environment, log_path, worker=False)
    _start(processes, server)
    return server


def _started_jobs(worker: ServiceProcess) -> set[int]:
    return {
        record["job_id"]
        for record in worker.log_events()
        if record.get("event") == "import.started"
    }


def test_tenants_run_parallel_each_in_order(
    environment: dict[str, str],
    processes: list[ServiceProcess],
    tmp_path: Path,
    database_url: str,
) -> None:
    first_api = _api(processes, environment, tmp_path / "api-1.log")
    second_api = _api(processes, environment, tmp_path / "api-2.log")
    workers = _workers(processes, environment, tmp_path, "worker-1", "worker-2")
    tenants = [make_tenant(database_url) for _ in range(3)]
    uploads: dict[int, list[str]] = {tenant.tenant_id: [] for tenant in tenants}

    with (
        httpx.Client(base_url=first_api.url, timeout=30) as first,
        httpx.Client(base_url=second_api.url, timeout=30) as second,
    ):
        for version in range(3):
            for index, tenant in enumerate(tenants):
                api = (first, second)[(version + index) % 2]
                content = numbered_users_file(3_000, last_name=f"Version{version}")
                response = upload_bytes(api, tenant, content)
                assert response.status_code == 202, response.text
                uploads[tenant.tenant_id].append(response.json()["data"]["uuid"])

        max_applying = 0
        deadline = time.monotonic() + 240
        while True:
            applying = set()
            finished_all = True
            for tenant in tenants:
                states = [
                    job_status(first, tenant, job_uuid)
                    for job_uuid in uploads[tenant.tenant_id]
                ]
                ended = [state["status"] in FINAL_STATUSES for state in states]
                started = [state["summary"]["processed_rows"] > 0 for state in states]
                # Ended jobs are always the earliest uploads, and only the first
                # job that has not ended may have begun.
                assert ended == sorted(ended, reverse=True), states
                first_open = ended.index(False) if False in ended else len(ended)
                assert not any(started[first_open + 1 :]), states
                if first_open < len(states) and started[first_open]:
                    applying.add(tenant.tenant_id)
                finished_all = finished_all and all(ended)
            max_applying = max(max_applying, len(applying))
            if finished_all:
                break
            assert time.monotonic() < deadline, "the jobs did not end in time"
            time.sleep(0.02)

        final_last_names = {
            values[2].split()[0]
            for tenant in tenants
            for values in users_table(first, tenant).values()
            if values[0] != "C-dup"
        }
        statuses = {
            job_status(first, tenant, job_uuid)["status"]
            for tenant in tenants
            for job_uuid in uploads[tenant.tenant_id]
        }

    # Two workers that apply one job each: two tenants at a time.
    assert max_applying >= 2, "no two tenants' jobs ever ran at the same time"
    assert final_last_names == {"Version2"}
    assert statuses == {"completed_with_errors"}
    assert all(_started_jobs(worker) for worker in workers), "a worker stayed idle"


def _reference_state(
    api: httpx.Client, reference: TenantCredentials, content: bytes
) -> tuple[object, ...]:
    job_uuid = upload_bytes(api, reference, content).json()["data"]["uuid"]
    wait_for_job(api, reference, job_uuid, timeout=240)
    return job_end_state(api, reference, job_uuid)


def test_killed_worker_job_resumes_elsewhere(
    environment: dict[str, str],
    processes: list[ServiceProcess],
    tmp_path: Path,
    database_url: str,
    smtp_server: MailSink,
) -> None:
    server = _api(processes, environment, tmp_path / "api.log")
    workers = _workers(processes, environment, tmp_path, "worker-1", "worker-2")
    interrupted = make_tenant(database_url, report_to=("hr@interrupted.example.com",))
    reference = make_tenant(database_url, report_to=("hr@reference.example.com",))
    content = numbered_users_file(12_000)

    with httpx.Client(base_url=server.url, timeout=60) as api:
        job_uuid = upload_bytes(api, interrupted, content).json()["data"]["uuid"]
        wait_until_applying(api, interrupted, job_uuid)
        doomed = next(worker for worker in workers if _started_jobs(worker))
        doomed.kill()
        killed_at = job_status(api, interrupted, job_uuid)
        survivor = next(worker for worker in workers if worker is not doomed)

        wait_for_job(api, interrupted, job_uuid, timeout=240)
        resumed = job_end_state(api, interrupted, job_uuid)
        uninterrupted = _reference_state(api, reference, content)
    wait_for_mails(smtp_server, 2)

    assert killed_at["status"] == "running"
    assert 0 < killed_at["summary"]["processed_rows"] < 12_001
    wait_for_log_event(survivor, "queue.stalled_entry_retried", timeout=5)
    assert resumed == uninterrupted
    assert sorted(message["To"] for message in smtp_server.messages) == [
        "hr@interrupted.example.com",
        "hr@reference.example.com",
    ]


def test_sigterm_commits_chunk_then_exits(
    environment: dict[str, str],
    processes: list[ServiceProcess],
    tmp_path: Path,
    database_url: str,
) -> None:
    server = _api(processes, environment, tmp_path / "api.log")
    (stopping,) = _workers(processes, environment, tmp_path, "stopping")
    interrupted, reference = make_tenant(database_url), make_tenant(database_url)
    content = numbered_users_file(20_000)

    with httpx.Client(base_url=server.url, timeout=60) as api:
        job_uuid = upload_bytes(api, interrupted, content).json()["data"]["uuid"]
        wait_until_applying(api, interrupted, job_uuid)
        signalled_at = time.monotonic()
        stopping.send(signal.SIGTERM)
        exit_code = stopping.wait(GRACE_SECONDS + 5)
        stopped_after = time.monotonic() - signalled_at
        left_at = job_status(api, interrupted, job_uuid)
        with psycopg.connect(database_url) as connection:
            attempts_left = connection.execute(
                "SELECT attempts, progress_attempt FROM import_jobs WHERE tenant_id = %s",
                (interrupted.tenant_id,),
            ).fetchone()

        _workers(processes, environment, tmp_path, "successor")
        wait_for_job(api, interrupted, job_uuid, timeout=240)
        resumed = job_end_state(api, interrupted, job_uuid)
        uninterrupted = _reference_state(api, reference, content)

    assert exit_code == 0
    assert stopped_after < GRACE_SECONDS
    wait_for_log_event(stopping, "import.interrupted", timeout=1)
    assert left_at["status"] == "running"
    # The stopped attempt does not count, and neither does its progress mark.
    assert attempts_left == (0, 0)
    assert left_at["summary"]["processed_rows"] % CHUNK_ROWS == 0
    assert 0 < left_at["summary"]["processed_rows"] < 20_001
    assert resumed == uninterrupted


def test_reader_crash_fails_after_retries(
    environment: dict[str, str],
    processes: list[ServiceProcess],
    tmp_path: Path,
    database_url: str,
) -> None:
    server = _api(processes, environment, tmp_path / "api.log")
    _workers(
        processes,
        environment,
        tmp_path,
        "worker-1",
        "worker-2",
        module="tests.jobs.crashing_worker",
    )
    unlucky, other = make_tenant(database_url), make_tenant(database_url)
    crashing = b"email;first_name;last_name\n" + CRASH_MARK + b";Bad;Luck\n"

    with httpx.Client(base_url=server.url, timeout=60) as api:
        crash_uuid = upload_bytes(api, unlucky, crashing).json()["data"]["uuid"]
        later_uuid = upload_bytes(api, unlucky, numbered_users_file(500)).json()[
            "data"
        ]["uuid"]
        other_uuid = upload_bytes(api, other, numbered_users_file(500)).json()["data"][
            "uuid"
        ]
        other_done = wait_for_job(api, other, other_uuid, timeout=120)
        crash_still_running = job_status(api, unlucky, crash_uuid)["status"]
        crashed = wait_for_job(api, unlucky, crash_uuid, timeout=120)
        later = wait_for_job(api, unlucky, later_uuid, timeout=120)

    assert other_done["status"] == "completed_with_errors"
    assert crash_still_running == "running"
    assert crashed["status"] == "failed"
    assert crashed["message"].startswith("The import stopped after 3 attempts")
    assert later["status"] == "completed_with_errors"
    assert later["started_at"] <= later["finished_at"]
    assert crashed["finished_at"] <= later["finished_at"]
