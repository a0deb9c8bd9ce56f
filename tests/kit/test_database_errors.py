"""Which database errors mean "unavailable, try again" (503) and which are faults (500).

Every error here is raised by the real driver or pool, not built by hand.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine

from maizeplus.kit.errors import database_error_summary, is_database_unavailable
from tests.support import free_port

DATABASE_ERRORS = (SQLAlchemyError, sqlite3.Error, psycopg.Error)


def _raised(action: Callable[[], object]) -> BaseException:
    with pytest.raises(DATABASE_ERRORS) as caught:
        action()
    return caught.value


def test_sqlite_locked_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    # timeout=0 gives up at once, where the service waits its busy timeout.
    waiter = sqlite3.connect(path, timeout=0, isolation_level=None)
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    try:
        raw = _raised(lambda: waiter.execute("INSERT INTO t VALUES (1)"))
        with engine.connect() as connection:
            wrapped = _raised(
                lambda: connection.execute(text("INSERT INTO t VALUES (1)"))
            )
    finally:
        engine.dispose()
        waiter.close()
        holder.close()

    assert isinstance(raw, sqlite3.OperationalError)
    assert "database is locked" in str(raw)
    assert is_database_unavailable(raw)
    assert isinstance(wrapped, SQLAlchemyError)
    assert is_database_unavailable(wrapped)
    assert database_error_summary(wrapped) == {
        "error": "OperationalError",
        "reason": "database is locked",
    }


def test_sqlite_statement_faults_are_not_unavailable(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'faults.db'}")
    with engine.connect() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER PRIMARY KEY)"))
        connection.execute(text("INSERT INTO t VALUES (1)"))
        missing_table = _raised(lambda: connection.execute(text("SELECT * FROM u")))
        syntax = _raised(lambda: connection.execute(text("SELEKT 1")))
        duplicate = _raised(
            lambda: connection.execute(text("INSERT INTO t VALUES (1)"))
        )
    engine.dispose()

    for error in (missing_table, syntax, duplicate):
        assert isinstance(error, SQLAlchemyError), error
        assert not is_database_unavailable(error), error


def test_refused_postgres_is_unavailable() -> None:
    # Nothing listens on a port that was free a moment ago.
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/postgres"
    engine = create_engine(url)
    wrapped = _raised(engine.connect)
    engine.dispose()
    raw = _raised(
        lambda: psycopg.connect(f"postgresql://postgres@127.0.0.1:{free_port()}/x")
    )

    assert isinstance(raw, psycopg.OperationalError)
    assert is_database_unavailable(raw)
    assert isinstance(wrapped, SQLAlchemyError)
    assert is_database_unavailable(wrapped)
    assert database_error_summary(wrapped)["error"] == "OperationalError"


def test_pool_timeout_is_unavailable(tmp_path: Path) -> None:
    async def exhaust_pool() -> BaseException:
        engine = create_async_engine(
            f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}",
            pool_size=1,
            max_overflow=0,
            pool_timeout=0.1,
        )
        try:
            async with engine.connect():
                with pytest.raises(SQLAlchemyError) as caught:
                    async with engine.connect():
                        pass
                return caught.value
        finally:
            await engine.dispose()

    error = asyncio.run(exhaust_pool())

    assert type(error).__name__ == "TimeoutError"
    assert is_database_unavailable(error)


def test_other_errors_are_not_unavailable() -> None:
    assert not is_database_unavailable(ValueError("not a database error"))
    assert not is_database_unavailable(sqlite3.ProgrammingError("closed"))
