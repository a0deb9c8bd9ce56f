"""Applying one chunk of validated rows to the tenant's users, with bulk statements.

A chunk is applied in the caller's transaction: one query finds the users that
the chunk's emails name, one finds the holders of the cids that change hands,
then new users are inserted with one statement and changed users updated with
another. Rows that would change nothing are not written.

Most chunks are plain: no user limit, no removed user, no cid taken or
repeated. Those are applied column by column, with work that runs in C over
the chunk. Any other chunk goes row by row through the same rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import repeat
from operator import attrgetter, itemgetter, ne
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from maizeplus.imports import messages
from maizeplus.imports.rules import ValidatedRow
from maizeplus.imports.units_store import UnitStore
from maizeplus.imports.user_table import (
    LOOKUP_DEACTIVATED_AT,
    LOOKUP_ID,
    LOOKUP_INDEX,
    LOOKUP_SETTABLE,
    UPDATE_COLUMNS,
    UserTable,
    new_uuids,
)
from maizeplus.kit.ids import allocate_ids_sync
from maizeplus.users.models import User

# User columns that an import row can set, by the import column that sets them.
_PLAIN_COLUMNS = {
    "cid": "cid",
    "first_name": "first_name",
    "last_name": "last_name",
    "language_id": "language_code",
    "country_id": "country_code",
}


@dataclass(frozen=True)
class ChunkContext:
    """The facts of one job that every one of its chunks shares."""

    tenant_id: int
    present_columns: frozenset[str]
    business_units: bool
    organizational_units: bool
    user_limit: int | None


@dataclass
class ChunkOutcome:
    """Counts and row errors of one applied chunk."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    created_disabled: int = 0
    errors: list[tuple[int, dict[str, list[str]]]] = field(default_factory=list)


def count_enabled_users(session: Session, tenant_id: int) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(User)
            .where(
                User.tenant_id == tenant_id,
                User.enabled.is_(True),
                User.deactivated_at.is_(None),
            )
        ).scalar_one()
    )


class ChunkWriter:
    """Applies chunks of one job, keeping the count of enabled users between rows."""

    def __init__(
        self, session: Session, context: ChunkContext, units: UnitStore
    ) -> None:
        self._session = session
        self._context = context
        self._units = units
        self._table = UserTable(session)
        self._has_cid = "cid" in context.present_columns

    def apply(self, rows: Sequence[ValidatedRow], now: datetime) -> ChunkOutcome:
        """Apply valid rows, returning the counts and the rows rejected here."""
        context = self._context
        # A valid row always has its email.
        emails = cast(list[str], [row.email for row in rows])
        existing = self._table.users_by_email(context.tenant_id, emails)
        currents = list(map(existing.get, emails))
        holders = self._cid_holders(rows, currents)
        timestamp = self._table.timestamp(now)
        if self._is_plain(rows, currents, holders):
            return self._apply_plain(rows, currents, timestamp)
        return self._apply_row_by_row(rows, currents, holders, timestamp)

    def _cid_holders(
        self, rows: Sequence[ValidatedRow], currents: list[tuple[Any, ...] | None]
    ) -> dict[str, str]:
        """Find the holders of the cids that rows give to a user who lacks them."""
        if not self._has_cid:
            return {}
        cid_index = LOOKUP_INDEX["cid"]
        changing = [
            row.cid
            for row, current in zip(rows, currents, strict=True)
            if row.cid and (current is None or current[cid_index] != row.cid)
        ]
        return self._table.cid_holders(self._context.tenant_id, changing)

    def _is_plain(
        self,
        rows: Sequence[ValidatedRow],
        currents: list[tuple[Any, ...] | None],
        holders: dict[str, str],
    ) -> bool:
        """Tell whether no row of the chunk can fail here or meet the user limit.

        A holder of a cid that changes hands is always another user, so any
        holder means an error.
        """
        if self._context.user_limit is not None or holders:
            return False
        if any(
            current[LOOKUP_DEACTIVATED_AT] is not None
            for current in currents
            if current is not None
        ):
            return False
        if self._has_cid:
            cids = [row.cid for row in rows if row.cid]
            if len(set(cids)) != len(cids):
                return False
        return True

    def _apply_plain(
        self,
        rows: Sequence[ValidatedRow],
        currents: list[tuple[Any, ...] | None],
        timestamp: Any,
    ) -> ChunkOutcome:
        outcome = ChunkOutcome()
        settable = self._settable_columns(rows)
        new_indexes = [
            index for index, current in enumerate(currents) if current is None
        ]
        # Updates go first, as in _write.
        if len(new_indexes) < len(rows):
            outcome.updated, outcome.unchanged = self._update_known_users(
                settable, currents, timestamp
            )
        if new_indexes:
            self._insert_new_users(rows, settable, new_indexes, timestamp)
            outcome.created = len(new_indexes)
        return outcome

    def _settable_columns(self, rows: Sequence[ValidatedRow]) -> list[list[Any] | None]:
        """Return each ``UPDATE_COLUMNS`` value of the rows, or None where the file keeps it.

        Units are found, created and renamed here, in row order.
        """
        context = self._context
        columns: list[list[Any] | None] = []
        for column in _UPDATABLE:
            if column == "enabled":
                present = "enabled" in context.present_columns
                columns.append([row.enabled for row in rows] if present else None)
            elif column == "business_unit_id":
                columns.append(
                    self._business_unit_ids(rows) if context.business_units else None
                )
            elif column == "organizational_unit_id":
                columns.append(
                    self._organizational_unit_ids(rows)
                    if context.organizational_units
                    else None
                )
            elif _FILE_COLUMN[column] in context.present_columns:
                columns.append(list(map(_ROW_VALUE[column], rows)))
            else:
                columns.append(None)
        return columns

    def _business_unit_ids(self, rows: Sequence[ValidatedRow]) -> list[int | None]:
        ids: list[int | None] = []
        # A unit is renamed whenever a row names it differently from the row
        # before it, as if every row were applied in turn.
        names: dict[str, str] = {}
        unit_ids: dict[str, int] = {}
        for row in rows:
            code = row.business_unit_code
            if not code:
                ids.append(None)
                continue
            name = row.business_unit_name or code
            if names.get(code) != name:
                unit_ids[code] = self._units.business_unit_id(code, name)
                names[code] = name
            ids.append(unit_ids[code])
        return ids

    def _organizational_unit_ids(
        self, rows: Sequence[ValidatedRow]
    ) -> list[int | None]:
        codes = [row.organizational_unit_code for row in rows]
        unit_ids: dict[str | None, int | None] = {None: None, "": None}
        for code in dict.fromkeys(codes):
            if code and code not in unit_ids:
                unit_ids[code] = self._units.organizational_unit_id(code)
        return list(map(unit_ids.__getitem__, codes))

    def _insert_new_users(
        self,
        rows: Sequence[ValidatedRow],
        settable: list[list[Any] | None],
        new_indexes: list[int],
        timestamp: Any,
    ) -> None:
        count = len(new_indexes)

        def of_new(values: list[Any] | None, default: Any = None) -> list[Any]:
            if values is None:
                return [default] * count
            if count == len(rows):
                return values
            return [values[index] for index in new_indexes]

        cids, first_names, last_names, enabled, languages, countries, bus, ous = (
            of_new(values) for values in settable
        )
        first_id = allocate_ids_sync(
            self._session, self._context.tenant_id, "users", count
        )
        self._table.insert(
            list(
                zip(
                    repeat(self._context.tenant_id),
                    range(first_id, first_id + count),
                    new_uuids(count),
                    of_new([row.email for row in rows]),
                    cids,
                    [name or "" for name in first_names],
                    [name or "" for name in last_names],
                    [value is not False for value in enabled],
                    languages,
                    countries,
                    bus,
                    ous,
                    repeat(None),
                    repeat(timestamp),
                    repeat(timestamp),
                    strict=False,
                )
            )
        )

    def _update_known_users(
        self,
        settable: list[list[Any] | None],
        currents: list[tuple[Any, ...] | None],
        timestamp: Any,
    ) -> tuple[int, int]:
        """Update the known users whose values change; return (updated, unchanged)."""
        indexes = [
            index for index, current in enumerate(currents) if current is not None
        ]
        stored = [current for current in currents if current is not None]
        stored_values: list[tuple[Any, ...]] = list(map(_settable_of, stored))
        stored_columns = list(zip(*stored_values, strict=True))
        every_row = indexes if len(indexes) < len(currents) else None
        target_columns = [
            _target_values(position, values, every_row, stored_columns[position])
            for position, values in enumerate(settable)
        ]
        targets = list(zip(*target_columns, strict=True))
        changed = [
            position
            for position, differs in enumerate(map(ne, targets, stored_values))
            if differs
        ]
        tenant_id = self._context.tenant_id
        self._table.update(
            [
                (*targets[position], timestamp, tenant_id, stored[position][LOOKUP_ID])
                for position in changed
            ]
        )
        return len(changed), len(stored) - len(changed)

    def _apply_row_by_row(
        self,
        rows: Sequence[ValidatedRow],
        currents: list[tuple[Any, ...] | None],
        holders: dict[str, str],
        timestamp: Any,
    ) -> ChunkOutcome:
        outcome = ChunkOutcome()
        context = self._context
        enabled_count = (
            count_enabled_users(self._session, context.tenant_id)
            if context.user_limit is not None
            else 0
        )
        cid_rows: dict[str, int] = {}
        inserts: list[list[Any]] = []
        updates: list[tuple[Any, ...]] = []

        for row, current in zip(rows, currents, strict=True):
            errors = self._row_errors(row, current, holders, cid_rows)
            if errors:
                outcome.errors.append((row.number, errors))
                continue
            if row.cid and self._has_cid:
                cid_rows[row.cid] = row.number
            values = self._values_from_row(row)
            if current is None:
                enabled = values.pop("enabled", True)
                if enabled and self._limit_reached(enabled_count):
                    enabled = False
                    outcome.created_disabled += 1
                enabled_count += int(enabled)
                inserts.append(self._new_user(row, values, enabled, timestamp))
                outcome.created += 1
                continue
            enabled_count += self._settle_enabled(values, current, enabled_count)
            changes = {
                key: value
                for key, value in values.items()
                if current[LOOKUP_INDEX[key]] != value
            }
            if not changes:
                outcome.unchanged += 1
                continue
            updates.append(self._user_update(values, current, timestamp))
            outcome.updated += 1

        self._write(inserts, updates)
        return outcome

    def _row_errors(
        self,
        row: ValidatedRow,
        current: tuple[Any, ...] | None,
        holders: dict[str, str],
        cid_rows: dict[str, int],
    ) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        if current is not None and current[LOOKUP_DEACTIVATED_AT] is not None:
            errors["email"] = [messages.USER_REMOVED]
        if row.cid and self._has_cid:
            earlier_row = cid_rows.get(row.cid)
            holder = holders.get(row.cid)
            if earlier_row is not None:
                errors["cid"] = [messages.cid_used_on_row(earlier_row)]
            elif holder is not None and holder != row.email:
                errors["cid"] = [messages.CID_TAKEN]
        return errors

    def _limit_reached(self, enabled_count: int) -> bool:
        limit = self._context.user_limit
        return limit is not None and enabled_count >= limit

    def _settle_enabled(
        self, values: dict[str, Any], current: tuple[Any, ...], enabled_count: int
    ) -> int:
        """Apply the user limit to a known user's ``enabled``; return the change in count."""
        wanted = values.get("enabled")
        if wanted is None:
            values.pop("enabled", None)
            return 0
        current_enabled = bool(current[LOOKUP_INDEX["enabled"]])
        if wanted and not current_enabled and self._limit_reached(enabled_count):
            # At the limit, the column cannot enable anyone: the user stays disabled.
            values["enabled"] = False
            return 0
        return int(wanted) - int(current_enabled)

    def _values_from_row(self, row: ValidatedRow) -> dict[str, Any]:
        context = self._context
        values: dict[str, Any] = {}
        for column, attribute in _PLAIN_COLUMNS.items():
            if column in context.present_columns:
                values[attribute] = getattr(row, attribute)
        if "enabled" in context.present_columns and row.enabled is not None:
            values["enabled"] = row.enabled
        if context.business_units and row.business_unit_code:
            values["business_unit_id"] = self._units.business_unit_id(
                row.business_unit_code, row.business_unit_name or row.business_unit_code
            )
        if context.organizational_units and row.organizational_unit_code:
            values["organizational_unit_id"] = self._units.organizational_unit_id(
                row.organizational_unit_code
            )
        return values

    def _new_user(
        self, row: ValidatedRow, values: dict[str, Any], enabled: bool, timestamp: Any
    ) -> list[Any]:
        """Return the new user's row in ``INSERT_COLUMNS`` order; id and uuid come later."""
        return [
            self._context.tenant_id,
            None,
            None,
            row.email,
            values.get("cid"),
            values.get("first_name") or "",
            values.get("last_name") or "",
            enabled,
            values.get("language_code"),
            values.get("country_code"),
            values.get("business_unit_id"),
            values.get("organizational_unit_id"),
            None,
            timestamp,
            timestamp,
        ]

    def _user_update(
        self, values: dict[str, Any], current: tuple[Any, ...], timestamp: Any
    ) -> tuple[Any, ...]:
        # Every update row carries every settable column, so one statement serves
        # the whole chunk; columns the file lacks keep their current values.
        return (
            *(values.get(key, current[LOOKUP_INDEX[key]]) for key in _UPDATABLE),
            timestamp,
            self._context.tenant_id,
            current[LOOKUP_ID],
        )

    def _write(self, inserts: list[list[Any]], updates: list[tuple[Any, ...]]) -> None:
        # Updates lock the rows they change before the insert's trigger takes
        # the tenant's data version row, the order in which a deactivation
        # takes them too, so the two cannot deadlock on PostgreSQL.
        self._table.update(updates)
        tenant_id = self._context.tenant_id
        if inserts:
            first_id = allocate_ids_sync(
                self._session, tenant_id, "users", len(inserts)
            )
            for offset, (values, user_uuid) in enumerate(
                zip(inserts, new_uuids(len(inserts)), strict=True)
            ):
                values[1] = first_id + offset
                values[2] = user_uuid
            self._table.insert([tuple(values) for values in inserts])


# Every column an update sets but its time stamp.
_UPDATABLE = UPDATE_COLUMNS[:-1]
# The import column behind each plain user column, and the row value it takes.
_FILE_COLUMN = {attribute: column for column, attribute in _PLAIN_COLUMNS.items()}
_settable_of = itemgetter(LOOKUP_SETTABLE)
_ROW_VALUE = {attribute: attrgetter(attribute) for attribute in _PLAIN_COLUMNS.values()}
# Columns whose None value in a row means "keep what is stored", not "clear".
_KEPT_WHEN_NONE = frozenset({"enabled", "business_unit_id", "organizational_unit_id"})


def _target_values(
    position: int,
    values: list[Any] | None,
    indexes: list[int] | None,
    stored_column: tuple[Any, ...],
) -> Sequence[Any]:
    """Return one settable column for the known users of the chunk.

    ``indexes`` are the known users' rows in the chunk, or None when every row
    is a known user.
    """
    if values is None:
        return stored_column
    picked = values if indexes is None else [values[index] for index in indexes]
    if _UPDATABLE[position] not in _KEPT_WHEN_NONE or None not in picked:
        return picked
    return [
        old if new is None else new
        for new, old in zip(picked, stored_column, strict=True)
    ]
