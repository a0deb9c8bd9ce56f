"""The unit planner: row order, cycles, conflicts, unknown parents, re-parenting."""

from __future__ import annotations

import itertools

import pytest

from maizeplus.imports.units import ResolvedUnit, UnitDefinition, plan_units

PARENT = "parent_organizational_unit_code"
NAME = "organizational_unit_name"


def define(
    row: int, code: str, parent: str | None = None, name: str | None = None
) -> UnitDefinition:
    return UnitDefinition(
        row=row, code=code, name=name or f"Unit {code}", parent_code=parent
    )


def cycle_message(*codes: str) -> str:
    path = " → ".join([*codes, codes[0]])
    return (
        "The parent organizational unit code makes the unit "
        f'"{codes[0]}" its own ancestor ({path}).'
    )


def unknown_message(code: str) -> str:
    return (
        f'The parent organizational unit code "{code}" is neither an existing unit '
        "nor a unit defined in this file."
    )


def assert_parents_first(units: dict[str, ResolvedUnit] | object) -> None:
    assert isinstance(units, dict)
    seen: set[str] = set()
    for code, unit in units.items():
        assert (
            unit.parent_code is None
            or unit.parent_code not in units
            or unit.parent_code in seen
        )
        seen.add(code)


def test_tree_in_row_order() -> None:
    plan = plan_units({}, [define(2, "A"), define(3, "B", "A"), define(4, "C", "B")])

    assert plan.errors == {}
    assert list(plan.units) == ["A", "B", "C"]
    assert plan.units["C"] == ResolvedUnit("C", "Unit C", "B", first_row=4, is_new=True)


@pytest.mark.parametrize(
    "order",
    list(itertools.permutations([("A", None), ("B", "A"), ("C", "B"), ("D", "A")])),
)
def test_parents_resolved_in_any_order(
    order: tuple[tuple[str, str | None], ...],
) -> None:
    definitions = [
        define(row, code, parent) for row, (code, parent) in enumerate(order, 2)
    ]
    plan = plan_units({}, definitions)

    assert plan.errors == {}
    assert set(plan.units) == {"A", "B", "C", "D"}
    assert_parents_first(plan.units)
    assert plan.units["C"].parent_code == "B"


def test_units_ordered_by_first_row() -> None:
    plan = plan_units(
        {}, [define(2, "X"), define(3, "C", "B"), define(4, "B"), define(5, "Y")]
    )

    assert list(plan.units) == ["X", "B", "C", "Y"]


def test_definitions_sorted_by_row() -> None:
    plan = plan_units(
        {}, [define(9, "A", name="Later"), define(3, "A", name="Earlier")]
    )

    assert plan.units["A"].name == "Earlier"
    assert plan.units["A"].first_row == 3
    assert list(plan.errors) == [9]


def test_cycle_of_one() -> None:
    plan = plan_units({}, [define(2, "A", "A"), define(3, "B")])

    assert plan.errors == {2: {PARENT: [cycle_message("A")]}}
    assert list(plan.units) == ["B"]


def test_cycle_of_two() -> None:
    plan = plan_units({}, [define(2, "A", "B"), define(3, "B", "A")])

    assert plan.errors == {
        2: {PARENT: [cycle_message("A", "B")]},
        3: {PARENT: [cycle_message("B", "A")]},
    }
    assert plan.units == {}


def test_cycle_of_three() -> None:
    plan = plan_units(
        {},
        [define(2, "A", "C"), define(3, "B", "A"), define(4, "C", "B"), define(5, "R")],
    )

    assert plan.errors == {
        2: {PARENT: [cycle_message("A", "C", "B")]},
        3: {PARENT: [cycle_message("B", "A", "C")]},
        4: {PARENT: [cycle_message("C", "B", "A")]},
    }
    assert list(plan.units) == ["R"]


def test_cycle_reported_on_repeated_rows() -> None:
    plan = plan_units(
        {}, [define(2, "A", "B"), define(3, "B", "A"), define(4, "A", "B")]
    )

    assert plan.errors[4] == {PARENT: [cycle_message("A", "B")]}


def test_child_of_cycle_rejected() -> None:
    plan = plan_units(
        {}, [define(2, "A", "B"), define(3, "B", "A"), define(4, "C", "A")]
    )

    assert plan.errors[4] == {
        PARENT: [
            'The parent organizational unit "A" cannot be used because its definition '
            "on row 2 of this file has errors."
        ]
    }
    assert plan.units == {}


def test_unknown_parent() -> None:
    plan = plan_units(
        {"HQ": ("Head office", None)}, [define(2, "A", "HQ"), define(3, "B", "NOPE")]
    )

    assert plan.errors == {3: {PARENT: [unknown_message("NOPE")]}}
    assert list(plan.units) == ["A"]


def test_unknown_parent_cascades() -> None:
    plan = plan_units(
        {}, [define(2, "C", "B"), define(3, "B", "NOPE"), define(4, "D", "C")]
    )

    assert plan.errors[3] == {PARENT: [unknown_message("NOPE")]}
    assert plan.errors[2] == {
        PARENT: [
            'The parent organizational unit "B" cannot be used because its definition '
            "on row 3 of this file has errors."
        ]
    }
    assert 4 in plan.errors
    assert plan.units == {}


def test_parent_codes_case_sensitive() -> None:
    plan = plan_units({}, [define(2, "sales"), define(3, "EU", "SALES")])

    assert plan.errors == {3: {PARENT: [unknown_message("SALES")]}}


def test_name_conflict_names_first_row() -> None:
    plan = plan_units(
        {},
        [
            define(2, "A", name="Milan"),
            define(3, "A", name="Milan"),
            define(5, "A", name="Milano"),
        ],
    )

    assert plan.errors == {
        5: {
            NAME: [
                "The organizational unit name differs from the name that row 2 of this "
                'file gives the unit "A".'
            ]
        }
    }
    assert plan.units["A"].name == "Milan"


def test_parent_conflict_names_first_row() -> None:
    plan = plan_units(
        {},
        [define(2, "R1"), define(3, "R2"), define(4, "A", "R1"), define(6, "A", "R2")],
    )

    assert plan.errors == {
        6: {
            PARENT: [
                "The parent organizational unit code differs from the parent that "
                'row 4 of this file gives the unit "A".'
            ]
        }
    }
    assert plan.units["A"].parent_code == "R1"


def test_empty_parent_conflicts_with_given() -> None:
    plan = plan_units({}, [define(2, "R"), define(3, "A", "R"), define(4, "A", None)])

    assert list(plan.errors[4]) == [PARENT]


def test_name_and_parent_conflict_together() -> None:
    plan = plan_units(
        {}, [define(2, "R"), define(3, "A", "R", "One"), define(4, "A", None, "Two")]
    )

    assert set(plan.errors[4]) == {NAME, PARENT}


def test_existing_unit_renamed() -> None:
    plan = plan_units({"A": ("Old name", None)}, [define(2, "A", name="New name")])

    assert plan.errors == {}
    assert plan.units["A"] == ResolvedUnit(
        "A", "New name", None, first_row=2, is_new=False
    )


def test_new_unit_under_existing() -> None:
    plan = plan_units({"HQ": ("Head office", None)}, [define(2, "A", "HQ")])

    assert plan.errors == {}
    assert list(plan.units) == ["A"]
    assert plan.units["A"].is_new


def test_existing_unit_reparented() -> None:
    existing = {"A": ("A", None), "B": ("B", "A"), "C": ("C", None)}
    plan = plan_units(existing, [define(2, "B", "C")])

    assert plan.errors == {}
    assert plan.units["B"].parent_code == "C"


def test_existing_moved_under_new_unit() -> None:
    existing = {"A": ("A", None)}
    plan = plan_units(existing, [define(2, "A", "N"), define(3, "N")])

    assert plan.errors == {}
    assert list(plan.units) == ["N", "A"]
    assert plan.units["A"].is_new is False


def test_reparent_existing_into_cycle() -> None:
    existing = {"A": ("A", None), "B": ("B", "A")}
    plan = plan_units(existing, [define(2, "A", "B")])

    assert plan.errors == {2: {PARENT: [cycle_message("A", "B")]}}
    assert plan.units == {}


def test_file_reverses_existing_tree() -> None:
    existing = {"A": ("A", None), "B": ("B", "A")}
    plan = plan_units(existing, [define(2, "A", "B"), define(3, "B", None)])

    assert plan.errors == {}
    assert list(plan.units) == ["B", "A"]


def test_rejected_reparent_closes_cycle() -> None:
    # B's move is rejected, so B stays under A, and A -> C -> B -> A closes.
    existing = {"A": ("A", None), "B": ("B", "A")}
    plan = plan_units(
        existing, [define(2, "A", "C"), define(3, "C", "B"), define(4, "B", "NOPE")]
    )

    assert plan.errors == {
        2: {PARENT: [cycle_message("A", "C", "B")]},
        3: {PARENT: [cycle_message("C", "B", "A")]},
        4: {PARENT: [unknown_message("NOPE")]},
    }
    assert plan.units == {}


def test_rejected_existing_parent_still_usable() -> None:
    existing = {"A": ("A", None)}
    plan = plan_units(existing, [define(2, "A", "NOPE"), define(3, "B", "A")])

    assert plan.errors == {2: {PARENT: [unknown_message("NOPE")]}}
    assert list(plan.units) == ["B"]


def test_without_parent_column_keeps_parents() -> None:
    existing = {"A": ("A", None), "B": ("B", "A")}
    plan = plan_units(
        existing, [define(2, "B", name="Renamed"), define(3, "N")], parents_given=False
    )

    assert plan.errors == {}
    assert plan.units["B"].parent_code == "A"
    assert plan.units["B"].name == "Renamed"
    assert plan.units["N"].parent_code is None


def test_unusable_definitions_skipped() -> None:
    plan = plan_units(
        {},
        [
            UnitDefinition(row=2, code="A", name="", parent_code=None),
            define(3, "", name="No code"),
            define(4, "B", "p" * 256),
            define(5, "x" * 256),
            define(6, "A", name="Sales"),
        ],
    )

    assert plan.errors == {}
    assert list(plan.units) == ["A"]
    assert plan.units["A"].first_row == 6


def test_deep_chain_without_recursion() -> None:
    depth = 5000
    definitions = [
        define(depth - level + 2, f"U{level}", f"U{level - 1}" if level else None)
        for level in range(depth)
    ]
    plan = plan_units({}, definitions)

    assert plan.errors == {}
    assert list(plan.units) == [f"U{level}" for level in range(depth)]


def test_long_cycle_reported() -> None:
    size = 2000
    definitions = [
        define(level + 2, f"U{level}", f"U{(level + 1) % size}")
        for level in range(size)
    ]
    plan = plan_units({}, definitions)

    assert len(plan.errors) == size
    assert plan.units == {}


def test_existing_units_untouched_without_definitions() -> None:
    plan = plan_units({"A": ("A", None)}, [])

    assert plan.units == {}
    assert plan.errors == {}
