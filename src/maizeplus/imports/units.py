"""The organizational units of a file, resolved into a plan before any row applies.

Each row names a unit by code, with its name and parent code. The first row
that names a unit defines it. A later row that gives the same unit another
name or parent is reported, and its message names that first row. A parent
is an existing unit of the tenant or a unit defined anywhere in the file, in
any row order. The file may re-parent existing units, as long as no unit
becomes its own ancestor. Rejected definitions are left out of the plan, and
every row that relies on them gets an error.

TODO: plan business units the same way. Until then, rows that give one
business unit code different names are not reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from maizeplus.imports import messages
from maizeplus.imports.columns import Column

# The tenant's units before the import: code -> (name, parent code or None).
ExistingUnits = Mapping[str, tuple[str, str | None]]
RowErrors = dict[int, dict[str, list[str]]]

_NAME = Column.ORGANIZATIONAL_UNIT_NAME.value
_PARENT = Column.PARENT_ORGANIZATIONAL_UNIT_CODE.value


@dataclass(frozen=True, slots=True)
class UnitDefinition:
    """The unit named on one row: its code, name and parent code (None for a root)."""

    row: int
    code: str
    name: str
    parent_code: str | None


@dataclass(frozen=True, slots=True)
class ResolvedUnit:
    """A unit as the import leaves it, defined by the first row that names it."""

    code: str
    name: str
    parent_code: str | None
    first_row: int
    is_new: bool


@dataclass(frozen=True)
class UnitPlan:
    """The units to create or update, and the errors of the rows that define units.

    ``units`` is ordered so that a unit's parent, when the file defines it
    too, comes before the unit. ``errors`` maps a row number to its errors.
    """

    units: Mapping[str, ResolvedUnit]
    errors: RowErrors = field(default_factory=dict)


def plan_units(
    existing: ExistingUnits,
    definitions: Iterable[UnitDefinition],
    *,
    parents_given: bool = True,
) -> UnitPlan:
    """Resolve the unit definitions of a file against the tenant's existing units.

    Pass ``parents_given=False`` when the file has no parent column: existing
    units then keep their parents and new units become roots. Definitions
    with an empty or over-long code, name or parent are skipped, because the
    row rules already report those rows.
    """
    first_rows = _FirstDefinitions(existing, parents_given)
    for definition in sorted(_usable(definitions), key=lambda item: item.row):
        first_rows.add(definition)

    rejected = _reject_unusable_parents(existing, first_rows.first)
    errors = first_rows.conflicts
    for code, message in rejected.items():
        for row in first_rows.agreeing_rows[code]:
            _add_error(errors, row, _PARENT, message)

    accepted = {
        code: definition
        for code, definition in first_rows.first.items()
        if code not in rejected
    }
    return UnitPlan(_parents_first(accepted, existing), dict(sorted(errors.items())))


def _usable(definitions: Iterable[UnitDefinition]) -> Iterable[UnitDefinition]:
    limit = messages.MAX_TEXT_LENGTH
    for definition in definitions:
        parent = definition.parent_code
        if (
            not 0 < len(definition.code) <= limit
            or not 0 < len(definition.name) <= limit
        ):
            continue
        if parent is not None and not 0 < len(parent) <= limit:
            continue
        yield definition


class _FirstDefinitions:
    """The first definition of each code, the rows that agree with it, and conflicts."""

    def __init__(self, existing: ExistingUnits, parents_given: bool) -> None:
        self._existing = existing
        self._parents_given = parents_given
        self.first: dict[str, UnitDefinition] = {}
        self.agreeing_rows: dict[str, list[int]] = {}
        self.conflicts: RowErrors = {}

    def add(self, definition: UnitDefinition) -> None:
        definition = self._with_kept_parent(definition)
        first = self.first.get(definition.code)
        if first is None:
            self.first[definition.code] = definition
            self.agreeing_rows[definition.code] = [definition.row]
            return

        if definition.name != first.name:
            message = messages.unit_name_conflict(definition.code, first.row)
            _add_error(self.conflicts, definition.row, _NAME, message)
        if definition.parent_code != first.parent_code:
            message = messages.unit_parent_conflict(definition.code, first.row)
            _add_error(self.conflicts, definition.row, _PARENT, message)
        if definition.row not in self.conflicts:
            self.agreeing_rows[definition.code].append(definition.row)

    def _with_kept_parent(self, definition: UnitDefinition) -> UnitDefinition:
        """Without a parent column, give the definition the parent the unit has now."""
        if self._parents_given:
            return definition
        stored = self._existing.get(definition.code)
        parent = stored[1] if stored is not None else None
        return UnitDefinition(definition.row, definition.code, definition.name, parent)


def _reject_unusable_parents(
    existing: ExistingUnits, first: Mapping[str, UnitDefinition]
) -> dict[str, str]:
    """Return the codes whose definition cannot apply, with the reason for each.

    A rejected definition of an existing unit leaves that unit's old parent
    in place, which can close a new cycle, so the checks repeat until no
    more definitions are rejected.
    """
    rejected: dict[str, str] = {}
    while True:
        parent_of = {code: stored[1] for code, stored in existing.items()}
        parent_of.update(
            (code, definition.parent_code)
            for code, definition in first.items()
            if code not in rejected
        )
        found = _missing_parents(parent_of, existing, first, rejected)
        if not found:
            found = _cycle_members(parent_of, first, rejected)
        if not found:
            return rejected
        rejected.update(found)


def _missing_parents(
    parent_of: Mapping[str, str | None],
    existing: ExistingUnits,
    first: Mapping[str, UnitDefinition],
    rejected: Mapping[str, str],
) -> dict[str, str]:
    """Find the accepted definitions whose parent will not exist."""
    found = {}
    for code, definition in first.items():
        parent = definition.parent_code
        if code in rejected or parent is None or parent in parent_of:
            continue
        if parent in first and parent not in existing:
            found[code] = messages.rejected_parent_unit(parent, first[parent].row)
        else:
            found[code] = messages.unknown_parent_unit(parent)
    return found


def _cycle_members(
    parent_of: Mapping[str, str | None],
    first: Mapping[str, UnitDefinition],
    rejected: Mapping[str, str],
) -> dict[str, str]:
    """Find the accepted definitions that lie on a cycle of parents."""
    found = {}
    for cycle in _cycles(parent_of):
        for position, code in enumerate(cycle):
            if code in first and code not in rejected:
                found[code] = messages.unit_cycle(cycle[position:] + cycle[:position])
    return found


def _cycles(parent_of: Mapping[str, str | None]) -> list[list[str]]:
    """Return every cycle of the parent graph, each from a unit up its parents."""
    walk_of: dict[str, str] = {}
    cycles = []
    for start in parent_of:
        if start in walk_of:
            continue
        position: dict[str, int] = {}
        path: list[str] = []
        code: str | None = start
        while code is not None and code in parent_of and code not in walk_of:
            walk_of[code] = start
            position[code] = len(path)
            path.append(code)
            code = parent_of[code]
        # Reaching a unit of this same walk again closes a cycle.
        if code is not None and code in position:
            cycles.append(path[position[code] :])
    return cycles


def _parents_first(
    accepted: Mapping[str, UnitDefinition], existing: ExistingUnits
) -> dict[str, ResolvedUnit]:
    """Order the accepted units so that each comes after its parent, by first row."""
    ordered: dict[str, ResolvedUnit] = {}
    for start in sorted(accepted, key=lambda code: accepted[code].row):
        chain = []
        code: str | None = start
        while code is not None and code in accepted and code not in ordered:
            chain.append(accepted[code])
            code = accepted[code].parent_code
        for definition in reversed(chain):
            ordered[definition.code] = ResolvedUnit(
                code=definition.code,
                name=definition.name,
                parent_code=definition.parent_code,
                first_row=definition.row,
                is_new=definition.code not in existing,
            )
    return ordered


def _add_error(errors: RowErrors, row: int, column: str, message: str) -> None:
    errors.setdefault(row, {}).setdefault(column, []).append(message)
