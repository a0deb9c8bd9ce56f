"""The floor and the baseline of an import, measured on the same file and machine.

The floor is the cheapest way to do an import's work here. It reads the file
with the fastest reader there is: the standard library's ``csv.reader``, or
for XLSX python-calamine, which reads about 8 times faster than the
service's streaming reader but holds the whole sheet in memory (about 1 GB
for a million rows). It writes every row with the database's bulk path. On
SQLite that is one transaction of batched upserts; on PostgreSQL, COPY into
a staging table and one merge. It checks no rule, so the service can only
approach it.

The baseline is the naive way: row-by-row ORM upserts, each row looked up by
email, added or changed, and committed in a transaction of its own, as an
ORM's ``update_or_create`` does under autocommit. It checks no rule either.

Both write into a tenant of a fresh database with the service's indexes. The
units that a row names are created the first time they appear.
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook
from sqlalchemy import select
from sqlalchemy.orm import Session

import maizeplus.db.models  # noqa: F401 - every table, for the ORM baseline
from maizeplus.db.engine import create_sync_engine
from maizeplus.imports.user_table import INSERT_COLUMNS, UPDATE_COLUMNS, new_uuids
from maizeplus.settings import Settings
from maizeplus.users.models import User

BATCH_ROWS = 5_000
# The columns of the generated files (bench.generate.HEADER), by position.
(
    EMAIL,
    CID,
    FIRST,
    LAST,
    ENABLED,
    LANGUAGE,
    COUNTRY,
    BU_CODE,
    BU_NAME,
    OU_CODE,
    OU_NAME,
) = range(11)

# The service's columns of a new user, but for ``deactivated_at``, which a
# new user lacks; an upsert sets the same columns as the service's update.
USER_COLUMNS = tuple(column for column in INSERT_COLUMNS if column != "deactivated_at")
MERGED_COLUMNS = UPDATE_COLUMNS


def file_rows(path: Path) -> Iterator[list[str]]:
    """Yield the data rows of a generated file, with the fastest reader for its format."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as content:
            reader = csv.reader(content, delimiter=";")
            next(reader)
            yield from reader
        return
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    rows = iter(sheet.to_python())
    next(rows)
    for row in rows:
        # Every cell of a generated file is text.
        yield [cell if isinstance(cell, str) else str(cell) for cell in row]


class _Units:
    """Codes to ids of the units seen so far; a new code is inserted at once."""

    def __init__(self, cursor: Any, tenant_id: int, marker: str) -> None:
        self._cursor = cursor
        self._tenant_id = tenant_id
        self._ids: dict[tuple[str, str], int] = {}
        self._marker = marker

    def id_of(self, table: str, code: str, name: str) -> int | None:
        if not code:
            return None
        key = (table, code)
        found = self._ids.get(key)
        if found is None:
            # A rerun meets the units in the same order, so they keep their ids.
            marks = ", ".join([self._marker] * 4)
            self._cursor.execute(
                f"INSERT INTO {table} (tenant_id, id, code, name) VALUES ({marks}) "
                "ON CONFLICT (tenant_id, code) DO UPDATE SET name = excluded.name",
                (self._tenant_id, len(self._ids) + 1, code, name),
            )
            found = self._ids[key] = len(self._ids) + 1
        return found


def _user_values(
    row: list[str], number: int, user_uuid: str, units: _Units, tenant_id: int, now: Any
) -> tuple[Any, ...]:
    return (
        tenant_id,
        number,
        user_uuid,
        row[EMAIL].lower(),
        row[CID] or None,
        row[FIRST],
        row[LAST],
        row[ENABLED] != "false",
        row[LANGUAGE] or None,
        row[COUNTRY] or None,
        units.id_of("business_units", row[BU_CODE], row[BU_NAME]),
        units.id_of("organizational_units", row[OU_CODE], row[OU_NAME]),
        now,
        now,
    )


def _batches(path: Path) -> Iterator[list[list[str]]]:
    batch: list[list[str]] = []
    for row in file_rows(path):
        batch.append(row)
        if len(batch) == BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


def sqlite_floor(database_url: str, tenant_id: int, path: Path) -> float:
    """Import the file as batched upserts in one SQLite transaction; return seconds."""
    engine = create_sync_engine(database_url)
    assignments = ", ".join(
        f"{column} = excluded.{column}" for column in MERGED_COLUMNS
    )
    statement = (
        f"INSERT INTO users ({', '.join(USER_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(USER_COLUMNS))}) "
        f"ON CONFLICT (tenant_id, email) DO UPDATE SET {assignments}"
    )
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        # The same page cache as the service's import connection.
        cache_kib = Settings().import_sqlite_cache_mib * 1024
        cursor.execute(f"PRAGMA cache_size=-{cache_kib}")
        cursor.execute("BEGIN IMMEDIATE")
        units = _Units(cursor, tenant_id, "?")
        number = 0
        for batch in _batches(path):
            uuids = new_uuids(len(batch))
            values = []
            for row, user_uuid in zip(batch, uuids, strict=True):
                number += 1
                values.append(
                    _user_values(row, number, user_uuid, units, tenant_id, now)
                )
            cursor.executemany(statement, values)
        raw.commit()
    finally:
        raw.close()
        engine.dispose()
    return time.perf_counter() - started


def postgres_floor(database_url: str, tenant_id: int, path: Path) -> float:
    """COPY the file into a staging table and merge it with one statement; return seconds."""
    engine = create_sync_engine(database_url)
    assignments = ", ".join(
        f"{column} = EXCLUDED.{column}" for column in MERGED_COLUMNS
    )
    columns = ", ".join(USER_COLUMNS)
    now = datetime.now(UTC).replace(tzinfo=None)
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(
            "CREATE TEMP TABLE staged_users AS SELECT "
            f"{columns} FROM users WITH NO DATA"
        )
        units = _Units(cursor, tenant_id, "%s")
        number = 0
        driver = raw.driver_connection
        assert driver is not None
        for batch in _batches(path):
            # The batch's units are written before its COPY starts, since a
            # connection runs no other statement during a COPY.
            values = []
            for row, user_uuid in zip(batch, new_uuids(len(batch)), strict=True):
                number += 1
                values.append(
                    _user_values(row, number, user_uuid, units, tenant_id, now)
                )
            with (
                driver.cursor() as copier,
                copier.copy(f"COPY staged_users ({columns}) FROM STDIN") as copy,
            ):
                for value in values:
                    copy.write_row(value)
        cursor.execute(
            f"INSERT INTO users ({columns}) SELECT {columns} FROM staged_users "
            f"ON CONFLICT (tenant_id, email) DO UPDATE SET {assignments}"
        )
        raw.commit()
    finally:
        raw.close()
        engine.dispose()
    return time.perf_counter() - started


def orm_baseline(
    database_url: str, tenant_id: int, path: Path, sample_rows: int
) -> float:
    """Upsert the file's first ``sample_rows`` rows, one transaction each; return rows/s."""
    engine = create_sync_engine(database_url)
    now = datetime.now(UTC).replace(tzinfo=None)
    started = time.perf_counter()
    done = 0
    with Session(engine) as session:
        for number, row in enumerate(file_rows(path), start=1_000_000_000):
            email = row[EMAIL].lower()
            user = session.scalars(
                select(User).where(User.tenant_id == tenant_id, User.email == email)
            ).first()
            if user is None:
                user = User(
                    tenant_id=tenant_id,
                    id=number,
                    uuid=str(os.urandom(16).hex()),
                    email=email,
                    enabled=True,
                    created_at=now,
                )
                session.add(user)
            user.cid = row[CID] or None
            user.first_name = row[FIRST]
            user.last_name = row[LAST]
            user.enabled = row[ENABLED] != "false"
            user.updated_at = now
            session.commit()
            done += 1
            if done == sample_rows:
                break
    engine.dispose()
    return done / (time.perf_counter() - started)
