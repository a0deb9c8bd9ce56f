"""A job interrupted by a server stop resumes at the next start and ends the same."""

from __future__ import annotations

import time

import httpx

from maizeplus.settings import Settings
from tests.imports.helpers import (
    job_end_state,
    numbered_users_file,
    upload_bytes,
    wait_for_job,
)
from tests.support import LiveServer, make_tenant

# 100 chunks of 50 rows: enough for the stop to land between chunks. At 20,000
# rows the test took 74 s on PostgreSQL in CI.
ROWS = 5_000


def test_job_resumes_after_restart(settings: Settings, database_url: str) -> None:
    small_chunks = settings.model_copy(update={"import_chunk_rows": 50})
    interrupted, reference = make_tenant(database_url), make_tenant(database_url)

    first = LiveServer(small_chunks).start()
    with httpx.Client(base_url=first.url, timeout=30) as client:
        job_uuid = upload_bytes(client, interrupted, numbered_users_file(ROWS)).json()[
            "data"
        ]["uuid"]
        deadline = time.monotonic() + 30
        while True:
            status = client.get(
                f"/api/v1/import/{job_uuid}/status", headers=interrupted.headers
            ).json()["data"]
            if status["summary"]["processed_rows"] > 0:
                break
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.01)
    first.stop()

    second = LiveServer(small_chunks).start()
    try:
        with httpx.Client(base_url=second.url, timeout=120) as client:
            stopped_at = client.get(
                f"/api/v1/import/{job_uuid}/status", headers=interrupted.headers
            ).json()["data"]
            wait_for_job(client, interrupted, job_uuid, timeout=240)
            resumed = job_end_state(client, interrupted, job_uuid)

            reference_uuid = upload_bytes(
                client, reference, numbered_users_file(ROWS)
            ).json()["data"]["uuid"]
            wait_for_job(client, reference, reference_uuid, timeout=240)
            uninterrupted = job_end_state(client, reference, reference_uuid)
    finally:
        second.stop()

    assert stopped_at["status"] == "running"
    assert 0 < stopped_at["summary"]["processed_rows"] < ROWS
    assert resumed == uninterrupted
    assert resumed[0] == "completed_with_errors"
    assert resumed[1]["created"] == ROWS - ROWS // 250
