"""API writes while a large import applies its chunks: none fails, the import completes.

On SQLite the runner and the API write to one file. A write transaction that
began deferred and had to upgrade its lock while the other side committed
failed at once with "database is locked"; BEGIN IMMEDIATE makes it wait.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx

from maizeplus.settings import Settings
from tests.auth.oauth import password_fields, post_token
from tests.imports.helpers import upload_bytes, wait_for_job
from tests.support import LiveServer, TenantCredentials, make_tenant

LARGE_ROWS = 100_000
CHUNK_ROWS = 2_000
SMALL_USERS = 60
MAX_SECONDS = 120
# One writer of each kind, pausing between its requests, still overlaps the
# import several times. Two of each, even 0.2 s apart, made the test take 52
# to 127 s on SQLite in CI runs beside other tests (10 s alone), most likely
# because the import's chunks waited for the write lock.
WRITERS_PER_KIND = 1
WRITER_PAUSE_SECONDS = 0.5


def _users_file(prefix: str, count: int) -> bytes:
    lines = ["email;first_name;last_name"]
    lines += [
        f"{prefix}{index}@example.com;Ada;Nummer {index}" for index in range(count)
    ]
    return ("\n".join(lines) + "\n").encode()


class _Writer(threading.Thread):
    """A thread that sends one kind of write request until its stop event is set."""

    def __init__(
        self, url: str, send: Callable[[httpx.Client, int], httpx.Response]
    ) -> None:
        super().__init__(daemon=True)
        self._url = url
        self._send = send
        self.stop = threading.Event()
        # (status code, body, monotonic time sent, seconds to the response)
        self.responses: list[tuple[int, str, float, float]] = []

    def run(self) -> None:
        with httpx.Client(base_url=self._url, timeout=60) as client:
            attempt = 0
            while not self.stop.is_set() and attempt < 10_000:
                sent_at = time.monotonic()
                response = self._send(client, attempt)
                self.responses.append(
                    (
                        response.status_code,
                        response.text,
                        sent_at,
                        time.monotonic() - sent_at,
                    )
                )
                attempt += 1
                self.stop.wait(WRITER_PAUSE_SECONDS)


def _wait_while_running(
    client: httpx.Client, tenant: TenantCredentials, job_uuid: str
) -> tuple[float | None, float]:
    """Poll the job until it ends; return when its first chunk was seen and the end."""
    applying_since = None
    deadline = time.monotonic() + MAX_SECONDS
    while True:
        status = client.get(
            f"/api/v1/import/{job_uuid}/status", headers=tenant.headers
        ).json()["data"]
        if applying_since is None and status["summary"]["processed_rows"] > 0:
            applying_since = time.monotonic()
        if status["status"] != "running" or time.monotonic() > deadline:
            return applying_since, time.monotonic()
        time.sleep(0.05)


def test_api_writes_during_large_import(settings: Settings, database_url: str) -> None:
    tenant = make_tenant(database_url)
    server = LiveServer(
        settings.model_copy(update={"import_chunk_rows": CHUNK_ROWS})
    ).start()

    def issue_token(client: httpx.Client, _attempt: int) -> httpx.Response:
        return post_token(client, password_fields(tenant), "urlencoded")

    def deactivate(client: httpx.Client, attempt: int) -> httpx.Response:
        return client.request(
            "DELETE",
            "/api/v1/users",
            headers={**tenant.headers, "Content-Type": "application/json"},
            json={"emails": [f"early{attempt % SMALL_USERS}@example.com"]},
        )

    def upload_small(client: httpx.Client, attempt: int) -> httpx.Response:
        return upload_bytes(client, tenant, _users_file(f"queued{attempt}-", 3))

    kinds = {
        "token": (issue_token, 200),
        "deactivation": (deactivate, 204),
        "upload": (upload_small, 202),
    }
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            small = upload_bytes(client, tenant, _users_file("early", SMALL_USERS))
            small_job = wait_for_job(client, tenant, small.json()["data"]["uuid"])

            writers = {
                kind: [_Writer(server.url, send) for _ in range(WRITERS_PER_KIND)]
                for kind, (send, _expected) in kinds.items()
            }
            large = upload_bytes(client, tenant, _users_file("late", LARGE_ROWS))
            large_uuid = large.json()["data"]["uuid"]
            for group in writers.values():
                for writer in group:
                    writer.start()
            applying_since, applying_until = _wait_while_running(
                client, tenant, large_uuid
            )
            for group in writers.values():
                for writer in group:
                    writer.stop.set()
                    writer.join(timeout=60)
            large_job = wait_for_job(client, tenant, large_uuid)
    finally:
        server.stop()

    assert small_job["status"] == "completed"
    assert large_job["status"] == "completed"
    assert large_job["summary"]["processed_rows"] == LARGE_ROWS
    assert large_job["summary"]["created"] == LARGE_ROWS
    assert large_job["summary"]["failed"] == 0

    assert applying_since is not None, "no chunk was seen being applied"
    for kind, (_send, expected) in kinds.items():
        responses = [entry for writer in writers[kind] for entry in writer.responses]
        failures = [(code, text) for code, text, _, _ in responses if code != expected]
        overlapping = [
            seconds
            for _code, _text, sent_at, seconds in responses
            if applying_since <= sent_at <= applying_until
        ]
        assert failures == [], kind
        assert len(overlapping) >= 1, f"{kind}: {len(overlapping)} overlapped"
        # Shown with pytest -s: how long a write waited for the runner's chunks.
        print(
            f"{kind}: {len(overlapping)} requests during the import, "
            f"slowest {max(overlapping):.2f} s"
        )
