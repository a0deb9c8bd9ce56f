"""/ready: 503 with a reason while the schema is missing, older, or the database is silent."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from maizeplus.db.engine import create_sync_engine
from maizeplus.db.migrate import head_revision
from maizeplus.kit.readiness import READY_TIMEOUT_SECONDS
from maizeplus.settings import Settings
from tests.support import LiveServer


def _ready(settings: Settings) -> httpx.Response:
    server = LiveServer(settings.model_copy(update={"embedded_worker": False}))
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            return client.get("/ready")
    finally:
        server.stop()


def test_ready_rejects_database_without_schema(
    settings: Settings, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()

    response = _ready(
        settings.model_copy(update={"database_url": f"sqlite:///{empty}"})
    )

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/json"
    assert response.json() == unready_body(
        "the database has no schema; run maizeplus db upgrade"
    )


def unready_body(reason: str) -> dict[str, str]:
    return {
        "status": "unavailable",
        "reason": reason,
        "message": f"The service is not ready: {reason}.",
    }


def test_ready_rejects_older_schema(settings: Settings, database_url: str) -> None:
    engine = create_sync_engine(database_url, pool=False)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    finally:
        engine.dispose()

    response = _ready(settings)

    assert response.status_code == 503
    assert response.json() == unready_body(
        f"the schema is at migration older, this version needs "
        f"{head_revision()}; run maizeplus db upgrade"
    )


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A loopback port that completes TCP handshakes but never sends a byte."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield int(listener.getsockname()[1])


def test_ready_times_out_on_silent_database(
    settings: Settings, silent_server: int
) -> None:
    silent_url = f"postgresql://postgres@127.0.0.1:{silent_server}/postgres"

    response = _ready(settings.model_copy(update={"database_url": silent_url}))

    assert response.status_code == 503
    assert response.json() == unready_body(
        f"the database check timed out after {READY_TIMEOUT_SECONDS:g} s"
    )
