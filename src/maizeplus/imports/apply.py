"""Applying one chunk of validated rows to the tenant's users, with bulk statements.

A chunk is applied in the caller's transaction: one query finds the users that
the chunk's emails name, one finds the holders of its cids, then new users are
inserted with one statement and changed users updated with another. Rows that
would change nothing are not written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from maizeplus.imports import messages
from maizeplus.imports.units_store import UnitStore
from maizeplus.imports.user_table import UPDATE_COLUMNS, UserTable, new_uuids
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


class RowValues(Protocol):
    """The normalised values of one valid row, as the row rules produce them."""

    number: int
    email: str
    cid: str | None
    first_name: str | None
    last_name: str | None
    enabled: bool | None
    language_code: str | None
    country_code: str | None
    business_unit_code: str | None
    business_unit_name: str | None
    organizational_unit_code: str | None


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

    def apply(self, rows: Sequence[RowValues], now: datetime) -> ChunkOutcome:
        outcome = ChunkOutcome()
        context = self._context
        existing = self._table.users_by_email(
            context.tenant_id, [row.email for row in rows]
        )
        holders = (
            self._table.cid_holders(
                context.tenant_id, [row.cid for row in rows if row.cid]
            )
            if "cid" in context.present_columns
            else {}
        )
        enabled_count = (
            count_enabled_users(self._session, context.tenant_id)
            if context.user_limit is not None
            else 0
        )
        cid_rows: dict[str, int] = {}
        inserts: list[list[Any]] = []
        updates: list[tuple[Any, ...]] = []
        timestamp = self._table.timestamp(now)

        for row in rows:
            current = existing.get(row.email)
            errors = self._row_errors(row, current, holders, cid_rows)
            if errors:
                outcome.errors.append((row.number, errors))
                continue
            if row.cid and "cid" in context.present_columns:
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
                if getattr(current, key) != value
            }
            if not changes:
                outcome.unchanged += 1
                continue
            updates.append(self._user_update(current.id, values, current, timestamp))
            outcome.updated += 1

        self._write(inserts, updates)
        return outcome

    def _row_errors(
        self,
        row: RowValues,
        current: Any,
        holders: dict[str, str],
        cid_rows: dict[str, int],
    ) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        if current is not None and current.deactivated_at is not None:
            errors["email"] = [messages.USER_REMOVED]
        if row.cid and "cid" in self._context.present_columns:
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
        self, values: dict[str, Any], current: Any, enabled_count: int
    ) -> int:
        """Apply the user limit to a known user's ``enabled``; return the change in count."""
        wanted = values.get("enabled")
        if wanted is None:
            values.pop("enabled", None)
            return 0
        if wanted and not current.enabled and self._limit_reached(enabled_count):
            # At the limit, the column cannot enable anyone: the user stays disabled.
            values["enabled"] = False
            return 0
        return int(wanted) - int(current.enabled)

    def _values_from_row(self, row: RowValues) -> dict[str, Any]:
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
        self, row: RowValues, values: dict[str, Any], enabled: bool, timestamp: Any
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
        self, user_id: int, values: dict[str, Any], current: Any, timestamp: Any
    ) -> tuple[Any, ...]:
        # Every update row carries every settable column, so one statement serves
        # the whole chunk; columns the file lacks keep their current values.
        return (
            *(values.get(key, getattr(current, key)) for key in _UPDATABLE),
            timestamp,
            self._context.tenant_id,
            user_id,
        )

    def _write(self, inserts: list[list[Any]], updates: list[tuple[Any, ...]]) -> None:
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
        self._table.update(updates)


# Every column an update sets but its time stamp.
_UPDATABLE = UPDATE_COLUMNS[:-1]
