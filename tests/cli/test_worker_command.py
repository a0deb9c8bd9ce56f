"""``maizeplus worker`` refuses SQLite, whose jobs the server applies itself."""

from __future__ import annotations

import pytest

from tests.cli.run import run_maizeplus
from tests.support import is_postgres


def test_worker_rejects_sqlite(database_url: str) -> None:
    if is_postgres(database_url):
        pytest.skip("the worker runs on PostgreSQL; tests/jobs covers it")

    result = run_maizeplus(database_url, "worker")

    assert result.returncode == 1
    assert "maizeplus worker needs PostgreSQL" in result.stderr
    assert "maizeplus serve applies the jobs itself" in result.stderr
