"""Applying one chunk of validated rows to the tenant's users, with bulk statements.

A chunk is applied in the caller's transaction: one query finds the users that
the chunk's emails name, one finds the holders of its cids, then new users are
inserted with one statement and changed users updated with another. Rows that
would change nothing are not written.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from maizeplus.db.base import table_of
from maizeplus.imports import messages
from maizeplus.imports.units_store import UnitStore
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


_USER_FIELDS = (
    User.id,
    User.email,
    User.cid,
    User.first_name,
    User.last_name,
    User.enabled,
    User.language_code,
    User.country_code,
    User.business_unit_id,
    User.organizational_unit_id,
    User.deactivated_at,
)


def _existing_users(
    session: Session, tenant_id: int, emails: Sequence[str]
) -> dict[str, Any]:
    if not emails:
        return {}
    rows = session.connection().execute(
        select(*_USER_FIELDS).where(User.tenant_id == tenant_id, User.email.in_(emails))
    )
    return {row.email: row for row in rows}


def _cid_holders(
    session: Session, tenant_id: int, cids: Iterable[str]
) -> dict[str, str]:
    wanted = sorted(set(cids))
    if not wanted:
        return {}
    rows = session.connection().execute(
        select(User.cid, User.email).where(
            User.tenant_id == tenant_id, User.cid.in_(wanted)
        )
    )
    return {row.cid: row.email for row in rows}


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

    def apply(self, rows: Sequence[RowValues], now: datetime) -> ChunkOutcome:
        outcome = ChunkOutcome()
        context = self._context
        existing = _existing_users(
            self._session, context.tenant_id, [row.email for row in rows]
        )
        holders = (
            _cid_holders(
                self._session, context.tenant_id, [row.cid for row in rows if row.cid]
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
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []

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
                inserts.append(self._new_user(row, values, enabled, now))
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
            updates.append(self._user_update(current.id, values, current, now))
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
        self, row: RowValues, values: dict[str, Any], enabled: bool, now: datetime
    ) -> dict[str, Any]:
        return {
            "tenant_id": self._context.tenant_id,
            "uuid": str(uuid.uuid4()),
            "email": row.email,
            "cid": values.get("cid"),
            "first_name": values.get("first_name") or "",
            "last_name": values.get("last_name") or "",
            "enabled": enabled,
            "language_code": values.get("language_code"),
            "country_code": values.get("country_code"),
            "business_unit_id": values.get("business_unit_id"),
            "organizational_unit_id": values.get("organizational_unit_id"),
            "deactivated_at": None,
            "created_at": now,
            "updated_at": now,
        }

    def _user_update(
        self, user_id: int, values: dict[str, Any], current: Any, now: datetime
    ) -> dict[str, Any]:
        # Every update row carries every settable column, so one statement serves
        # the whole chunk; columns the file lacks keep their current values.
        merged = {key: getattr(current, key) for key in _UPDATABLE}
        merged.update(values)
        merged["updated_at"] = now
        # Bound names differ from the column names, which SQLAlchemy reserves
        # for the SET clause.
        return {
            "user_id": user_id,
            **{f"new_{key}": value for key, value in merged.items()},
        }

    def _write(
        self, inserts: list[dict[str, Any]], updates: list[dict[str, Any]]
    ) -> None:
        tenant_id = self._context.tenant_id
        if inserts:
            first_id = allocate_ids_sync(
                self._session, tenant_id, "users", len(inserts)
            )
            for offset, values in enumerate(inserts):
                values["id"] = first_id + offset
            # The table's Core insert skips the ORM's bulk bookkeeping, which
            # costs more than the statement itself at thousands of rows.
            self._session.connection().execute(insert(table_of(User)), inserts)
        if updates:
            statement = (
                update(User)
                .where(User.tenant_id == tenant_id, User.id == bindparam("user_id"))
                .values(
                    {
                        key: bindparam(f"new_{key}")
                        for key in (*_UPDATABLE, "updated_at")
                    }
                )
            )
            self._session.connection().execute(statement, updates)


_UPDATABLE = (
    "cid",
    "first_name",
    "last_name",
    "enabled",
    "language_code",
    "country_code",
    "business_unit_id",
    "organizational_unit_id",
)
