"""Requests while PostgreSQL is down get a 503, and succeed again once it is back.

The test stops and restarts a throwaway cluster of its own, whatever
MAIZEPLUS_TEST_DATABASE_URL names.
"""

from __future__ import annotations

import logging
import socket
import time
from pathlib import Path

import httpx
import pytest

from maizeplus.db.engine import POSTGRES_CONNECT_TIMEOUT_SECONDS
from maizeplus.db.migrate import upgrade_database
from maizeplus.settings import Settings
from tests.auth.oauth import password_fields, post_token
from tests.pg_cluster import ThrowawayCluster
from tests.scrape import scrape, value
from tests.support import LiveServer, make_tenant

UNAVAILABLE = {"message": "Service Unavailable."}


def test_outage_returns_503_then_recovers(
    cluster: ThrowawayCluster, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    upgrade_database(cluster.url)
    tenant = make_tenant(cluster.url)
    settings = Settings(
        database_url=cluster.url,
        password_hash_time_cost=1,
        password_hash_memory_kib=64,
        import_work_dir=tmp_path,
    )
    server = LiveServer(settings).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            before = client.get("/api/v1/users", headers=tenant.headers)
            ready_before = client.get("/ready")
            metrics_before = scrape(client)

            cluster.stop_immediately()
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="maizeplus.kit.errors"):
                users = client.get("/api/v1/users", headers=tenant.headers)
                courses = client.get("/api/v1/courses", headers=tenant.headers)
                token = post_token(client, password_fields(tenant), "urlencoded")
            ready_during = client.get("/ready")
            metrics_during = scrape(client)

            cluster.start()
            after = client.get("/api/v1/users", headers=tenant.headers)
            ready_after = client.get("/ready")
    finally:
        server.stop()

    assert before.status_code == 200
    assert ready_before.json() == {"status": "ok"}

    for response in (users, courses, token):
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/json"
        assert response.headers["retry-after"] == "5"
        assert response.json() == UNAVAILABLE
    assert ready_during.status_code == 503
    assert ready_during.json()["status"] == "unavailable"
    assert ready_during.json()["reason"].startswith("the database is not reachable")
    # The scrape still works, without the job counts that need the database.
    assert not any(name == "maizeplus_import_jobs" for name, _ in metrics_during)
    users_503 = {"method": "GET", "route": "/api/v1/users", "status": "503"}
    assert (
        value(metrics_during, "maizeplus_http_requests_total", **users_503)
        - value(metrics_before, "maizeplus_http_requests_total", **users_503)
        == 1
    )

    unavailable = [
        r for r in caplog.records if r.getMessage() == "database.unavailable"
    ]
    routes = [getattr(record, "route", None) for record in unavailable]
    assert routes == ["/api/v1/users", "/api/v1/courses", "/oauth/token"]
    assert all(record.exc_info is None for record in unavailable)

    assert after.status_code == 200, after.text
    assert after.json()["data"] == before.json()["data"]
    assert ready_after.json() == {"status": "ok"}


@pytest.mark.slow
def test_silent_database_returns_503(settings: Settings) -> None:
    with socket.socket() as listener:
        # Completes TCP handshakes but never sends a byte, like a hung host.
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        silent_url = f"postgresql://postgres@127.0.0.1:{listener.getsockname()[1]}/x"
        server = LiveServer(
            settings.model_copy(
                update={"database_url": silent_url, "embedded_worker": False}
            )
        ).start()
        try:
            with httpx.Client(base_url=server.url, timeout=60) as client:
                started = time.monotonic()
                # The token is never checked: looking it up is what fails.
                response = client.get(
                    "/api/v1/users", headers={"Authorization": "Bearer unchecked"}
                )
                waited = time.monotonic() - started
        finally:
            server.stop()

    assert response.status_code == 503
    assert response.json() == UNAVAILABLE
    assert waited < POSTGRES_CONNECT_TIMEOUT_SECONDS + 5
