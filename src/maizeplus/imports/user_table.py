"""The users table as an import chunk reads and writes it, with the driver's bulk paths.

In a profile of a million-row import, SQLAlchemy's per-row parameter
handling took about as long as the database itself. So these statements go
to the driver as plain SQL with positional rows: ``executemany`` on SQLite,
and ``COPY`` for new users on PostgreSQL. Lookups pass their keys as one
parameter (a JSON array on SQLite, an array on PostgreSQL), so the statement
is the same for every chunk.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from maizeplus.db.base import table_of
from maizeplus.users.models import User

# The order of the values of a new user's row.
INSERT_COLUMNS = (
    "tenant_id",
    "id",
    "uuid",
    "email",
    "cid",
    "first_name",
    "last_name",
    "enabled",
    "language_code",
    "country_code",
    "business_unit_id",
    "organizational_unit_id",
    "deactivated_at",
    "created_at",
    "updated_at",
)
# The columns an update sets, in the order of its row; the row ends with the
# tenant and the user's id.
UPDATE_COLUMNS = (
    "cid",
    "first_name",
    "last_name",
    "enabled",
    "language_code",
    "country_code",
    "business_unit_id",
    "organizational_unit_id",
    "updated_at",
)
# What a chunk compares against a known user: the settable columns and the
# removal mark. A looked-up user is a tuple in this order.
LOOKUP_COLUMNS = ("id", "email", *UPDATE_COLUMNS[:-1], "deactivated_at")
LOOKUP_ID = 0
LOOKUP_DEACTIVATED_AT = len(LOOKUP_COLUMNS) - 1
# The settable columns of a looked-up user, in ``UPDATE_COLUMNS`` order.
LOOKUP_SETTABLE = slice(2, LOOKUP_DEACTIVATED_AT)
LOOKUP_INDEX = {column: index for index, column in enumerate(LOOKUP_COLUMNS)}


_email_of = itemgetter(LOOKUP_INDEX["email"])


def new_uuids(count: int) -> list[str]:
    """Return ``count`` time-ordered (version 7, RFC 9562) UUIDs in their text form.

    Each starts with the current Unix time in milliseconds and counts up
    within the batch, so new users join the end of the uuid index instead of
    landing on a random page of it. The remaining 62 bits are random. One
    call to the system's random source serves the whole batch.
    """
    if count == 0:
        return []
    raw = (
        np.frombuffer(os.urandom(16 * count), dtype=np.uint8).reshape(count, 16).copy()
    )
    milliseconds = time.time_ns() // 1_000_000
    raw[:, :6] = np.frombuffer(milliseconds.to_bytes(6, "big"), dtype=np.uint8)
    # rand_a (12 bits) is the position in the batch, so the batch sorts in
    # order. Rows past the 4,096th share the top value, which keeps them in
    # one millisecond's range of the index.
    sequence = np.minimum(np.arange(count, dtype=np.uint16), 0x0FFF)
    raw[:, 6] = 0x70 | (sequence >> 8).astype(np.uint8)
    raw[:, 7] = (sequence & 0xFF).astype(np.uint8)
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    digits = raw.tobytes().hex()
    uuids = []
    for start in range(0, 32 * count, 32):
        text = digits[start : start + 32]
        uuids.append(f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}")
    return uuids


class UserTable:
    """The bulk statements of a session's database, run in its current transaction."""

    def __init__(self, session: Session) -> None:
        self._session = session
        dialect = session.get_bind().dialect
        self._postgres = dialect.name == "postgresql"
        marker = "%s" if self._postgres else "?"
        self._lookup_by_email = self._lookup_sql("email")
        self._lookup_by_cid = (
            f"SELECT cid, email FROM users WHERE tenant_id = {marker} "
            f"AND cid {self._any_of()}"
        )
        self._insert = (
            f"INSERT INTO users ({', '.join(INSERT_COLUMNS)}) "
            f"VALUES ({', '.join([marker] * len(INSERT_COLUMNS))})"
        )
        self._update = (
            "UPDATE users SET "
            + ", ".join(f"{column} = {marker}" for column in UPDATE_COLUMNS)
            + f" WHERE tenant_id = {marker} AND id = {marker}"
        )
        # SQLite stores timestamps as text in SQLAlchemy's format, converted
        # once per chunk here rather than by sqlite3 for every row; psycopg
        # takes the datetime as it is.
        column_type = table_of(User).c.created_at.type
        self._timestamp = column_type.dialect_impl(dialect).bind_processor(dialect)

    def _any_of(self) -> str:
        if self._postgres:
            return "= ANY(%s)"
        return "IN (SELECT value FROM json_each(?))"

    def _lookup_sql(self, key: str) -> str:
        marker = "%s" if self._postgres else "?"
        return (
            f"SELECT {', '.join(LOOKUP_COLUMNS)} FROM users "
            f"WHERE tenant_id = {marker} AND {key} {self._any_of()}"
        )

    def _keys(self, values: Sequence[str]) -> Any:
        return list(values) if self._postgres else json.dumps(list(values))

    def timestamp(self, value: datetime) -> Any:
        """Return a timestamp as the driver is to receive it."""
        return value if self._timestamp is None else self._timestamp(value)

    def users_by_email(
        self, tenant_id: int, emails: Sequence[str]
    ) -> dict[str, tuple[Any, ...]]:
        """Map each email of a known user to its row in ``LOOKUP_COLUMNS`` order."""
        if not emails:
            return {}
        # In index order, the lookups find the index pages they need in the
        # cache more often.
        keys = self._keys(sorted(emails))
        rows = self._fetch(self._lookup_by_email, (tenant_id, keys))
        return dict(zip(map(_email_of, rows), rows, strict=True))

    def cid_holders(self, tenant_id: int, cids: Iterable[str]) -> dict[str, str]:
        """Map each of these cids that a user holds to that user's email."""
        wanted = sorted(set(cids))
        if not wanted:
            return {}
        return dict(self._fetch(self._lookup_by_cid, (tenant_id, self._keys(wanted))))

    def _fetch(self, statement: str, parameters: tuple[Any, ...]) -> list[Any]:
        # The driver's cursor returns plain tuples, without the cost of
        # building SQLAlchemy rows, which profiling showed for a million.
        driver = self._session.connection().connection.driver_connection
        assert driver is not None
        cursor = driver.cursor()
        try:
            cursor.execute(statement, parameters)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def insert(self, rows: list[tuple[Any, ...]]) -> None:
        """Insert new users, each a tuple in ``INSERT_COLUMNS`` order."""
        if not rows:
            return
        if self._postgres:
            driver = self._session.connection().connection.driver_connection
            assert driver is not None
            with (
                driver.cursor() as cursor,
                cursor.copy(
                    f"COPY users ({', '.join(INSERT_COLUMNS)}) FROM STDIN"
                ) as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            return
        self._session.connection().exec_driver_sql(self._insert, rows)

    def update(self, rows: list[tuple[Any, ...]]) -> None:
        """Update users, each a tuple in ``UPDATE_COLUMNS`` order, then tenant and id."""
        if rows:
            self._session.connection().exec_driver_sql(self._update, rows)
