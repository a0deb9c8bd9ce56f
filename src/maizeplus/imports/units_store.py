"""Business and organizational units as a running job creates and renames them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from maizeplus.kit.ids import allocate_ids_sync
from maizeplus.tenants.models import BusinessUnit, OrganizationalUnit


@dataclass(frozen=True)
class PlannedUnit:
    """A unit's name and parent code, as the file defines it."""

    name: str
    parent_code: str | None


@dataclass
class _StoredUnit:
    id: int
    name: str
    parent_id: int | None


class UnitStore:
    """Finds, creates and renames the tenant's units by code, with the ids cached.

    One store serves one attempt at a job: its cache follows the transactions
    of that attempt, and a failed attempt starts again with a new store.
    """

    def __init__(
        self,
        session: Session,
        tenant_id: int,
    ) -> None:
        self._session = session
        self._tenant_id = tenant_id
        self._planned: Mapping[str, PlannedUnit] = {}
        self._business: dict[str, _StoredUnit] = {
            row.code: _StoredUnit(row.id, row.name, None)
            for row in session.execute(
                select(BusinessUnit.code, BusinessUnit.id, BusinessUnit.name).where(
                    BusinessUnit.tenant_id == tenant_id
                )
            )
        }
        self._organizational: dict[str, _StoredUnit] = {
            row.code: _StoredUnit(row.id, row.name, row.parent_id)
            for row in session.execute(
                select(
                    OrganizationalUnit.code,
                    OrganizationalUnit.id,
                    OrganizationalUnit.name,
                    OrganizationalUnit.parent_id,
                ).where(OrganizationalUnit.tenant_id == tenant_id)
            )
        }
        self._settled: set[str] = set()

    def use_plan(self, planned_organizational_units: Mapping[str, PlannedUnit]) -> None:
        """Set the units that the file defines, by code, as the planner resolved them."""
        self._planned = planned_organizational_units

    def business_unit_id(self, code: str, name: str) -> int:
        """Return the id of the business unit with this code, created or renamed to ``name``."""
        stored = self._business.get(code)
        if stored is None:
            unit_id = allocate_ids_sync(
                self._session, self._tenant_id, "business_units", 1
            )
            self._session.execute(
                insert(BusinessUnit).values(
                    tenant_id=self._tenant_id, id=unit_id, code=code, name=name
                )
            )
            self._business[code] = _StoredUnit(unit_id, name, None)
            return unit_id
        if stored.name != name:
            self._session.execute(
                update(BusinessUnit)
                .where(
                    BusinessUnit.tenant_id == self._tenant_id,
                    BusinessUnit.id == stored.id,
                )
                .values(name=name)
            )
            stored.name = name
        return stored.id

    def organizational_unit_id(self, code: str) -> int:
        """Return the id of the unit with this code, as the file's plan defines it.

        Its ancestors are created or re-parented first. The planner has already
        rejected cycles and unknown parents, so the walk ends at a root.
        """
        planned = self._planned.get(code)
        stored = self._organizational.get(code)
        if planned is None or code in self._settled:
            assert stored is not None, f"unit {code!r} is neither stored nor planned"
            return stored.id

        parent_id = (
            self.organizational_unit_id(planned.parent_code)
            if planned.parent_code
            else None
        )
        if stored is None:
            unit_id = allocate_ids_sync(
                self._session, self._tenant_id, "organizational_units", 1
            )
            self._session.execute(
                insert(OrganizationalUnit).values(
                    tenant_id=self._tenant_id,
                    id=unit_id,
                    code=code,
                    name=planned.name,
                    parent_id=parent_id,
                )
            )
            stored = _StoredUnit(unit_id, planned.name, parent_id)
            self._organizational[code] = stored
        elif (stored.name, stored.parent_id) != (planned.name, parent_id):
            self._session.execute(
                update(OrganizationalUnit)
                .where(
                    OrganizationalUnit.tenant_id == self._tenant_id,
                    OrganizationalUnit.id == stored.id,
                )
                .values(name=planned.name, parent_id=parent_id)
            )
            stored.name, stored.parent_id = planned.name, parent_id
        self._settled.add(code)
        return stored.id

    def existing_organizational_units(self) -> dict[str, tuple[str, str | None]]:
        """Map each stored unit's code to its name and parent code, for the planner."""
        code_of = {unit.id: code for code, unit in self._organizational.items()}
        return {
            code: (unit.name, code_of.get(unit.parent_id) if unit.parent_id else None)
            for code, unit in self._organizational.items()
        }
