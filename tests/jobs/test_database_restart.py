"""PostgreSQL restarted in the middle of an import.

The test stops and starts a throwaway cluster of its own, whatever
MAIZEPLUS_TEST_DATABASE_URL names.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from maizeplus.db.migrate import upgrade_database
from tests.imports.helpers import (
    all_errors,
    job_end_state,
    numbered_users_file,
    upload_bytes,
    users_table,
    wait_for_job,
)
from tests.jobs.conftest import wait_until_applying
from tests.jobs.processes import ServerProcess, ServiceProcess, service_environment
from tests.pg_cluster import ThrowawayCluster
from tests.support import make_tenant

ROWS = 20_000
OUTAGE_SECONDS = 3
UNAVAILABLE = {"message": "Service Unavailable."}


def test_import_survives_database_restart(
    cluster: ThrowawayCluster, processes: list[ServiceProcess], tmp_path: Path
) -> None:
    upgrade_database(cluster.url)
    tenant, reference = make_tenant(cluster.url), make_tenant(cluster.url)
    environment = service_environment(
        cluster.url,
        import_chunk_rows=200,
        import_work_dir=tmp_path / "work",
        worker_heartbeat_seconds=1,
        worker_stalled_after_seconds=4,
    )
    server = ServerProcess(environment, tmp_path / "server.log")
    processes.append(server)
    server.start()
    content = numbered_users_file(ROWS)

    with httpx.Client(base_url=server.url, timeout=60) as api:
        job_uuid = upload_bytes(api, tenant, content).json()["data"]["uuid"]
        wait_until_applying(api, tenant, job_uuid)
        cluster.stop_immediately()
        answers = []
        outage_ends = time.monotonic() + OUTAGE_SECONDS
        while time.monotonic() < outage_ends:
            answers.append(
                api.get(f"/api/v1/import/{job_uuid}/status", headers=tenant.headers)
            )
            time.sleep(0.2)
        cluster.start()

        ended = wait_for_job(api, tenant, job_uuid, timeout=240)
        errors = all_errors(api, tenant, job_uuid)
        users = users_table(api, tenant)
        state = job_end_state(api, tenant, job_uuid)
        reference_uuid = upload_bytes(api, reference, content).json()["data"]["uuid"]
        wait_for_job(api, reference, reference_uuid, timeout=240)
        uninterrupted = job_end_state(api, reference, reference_uuid)

    assert answers
    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert answer.json() == UNAVAILABLE
    summary = ended["summary"]
    # Nothing half-recorded: the counts, the row errors and the users agree.
    assert summary["processed_rows"] == (
        summary["created"]
        + summary["updated"]
        + summary["unchanged"]
        + summary["failed"]
    )
    assert len(errors) == summary["failed"]
    assert len(users) == summary["created"]
    if ended["status"] == "failed":
        assert ended["message"]
    else:
        assert state == uninterrupted
