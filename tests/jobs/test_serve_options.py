"""``maizeplus serve`` takes MAIZEPLUS_EMBEDDED_WORKER unless a flag overrides it."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.imports.helpers import numbered_users_file, upload_bytes
from tests.jobs.conftest import job_status
from tests.jobs.processes import ServerProcess, ServiceProcess
from tests.support import make_tenant


def test_serve_honours_embedded_worker_setting(
    environment: dict[str, str],
    processes: list[ServiceProcess],
    tmp_path: Path,
    database_url: str,
) -> None:
    tenant = make_tenant(database_url)
    server = ServerProcess(
        {**environment, "MAIZEPLUS_EMBEDDED_WORKER": "false"}, tmp_path / "api.log"
    )
    processes.append(server)
    server.start()

    with httpx.Client(base_url=server.url, timeout=30) as api:
        job_uuid = upload_bytes(api, tenant, numbered_users_file(10)).json()["data"][
            "uuid"
        ]
        time.sleep(3)
        waiting = job_status(api, tenant, job_uuid)

    assert waiting["status"] == "running"
    assert waiting["summary"]["processed_rows"] == 0
