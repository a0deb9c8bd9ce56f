"""Header rules: matching names, required and repeated columns, the column map."""

from __future__ import annotations

import pytest

from maizeplus.imports.cells import Cell, DateCell, SheetRow
from maizeplus.imports.columns import (
    Column,
    ColumnMap,
    HeaderInvalid,
    TenantImportOptions,
    validate_header,
)
from maizeplus.imports.errors import FileUnreadable
from tests.imports.rules.support import ALL_COLUMNS, EVERY_UNIT

BASIC = ("email", "first_name", "last_name")


def header(*names: Cell) -> SheetRow:
    return SheetRow(1, names)


def test_header_maps_indexes() -> None:
    columns = validate_header(header(*ALL_COLUMNS), EVERY_UNIT)

    assert {column: columns.index(column) for column in ALL_COLUMNS} == {
        column: index for index, column in enumerate(ALL_COLUMNS)
    }
    assert columns.present == frozenset(ALL_COLUMNS)


@pytest.mark.parametrize(
    "name",
    [
        "email",
        "EMAIL",
        "Email ",
        " email",
        "\temail\t",
        "\u00a0Email\u00a0",
        "\ufeffemail",
    ],
)
def test_header_name_normalised(name: str) -> None:
    columns = validate_header(
        header(name, "first_name", "last_name"), TenantImportOptions()
    )

    assert columns.index("email") == 0


def test_header_case_and_spaces() -> None:
    names = (
        "Email ",
        "CID",
        " First_Name",
        "LAST_NAME",
        "Enabled",
        "Language_ID",
        "Country_Id ",
        "Business_Unit_Code",
        "business_unit_name",
        "ORGANIZATIONAL_UNIT_CODE",
        "organizational_unit_name",
        "Parent_Organizational_Unit_Code",
    )
    columns = validate_header(header(*names), EVERY_UNIT)

    assert [columns.index(column) for column in ALL_COLUMNS] == list(range(12))


def test_unknown_and_empty_names_ignored() -> None:
    columns = validate_header(
        header(
            "Notes",
            "email",
            "",
            "first_name",
            "  ",
            "last_name",
            "notes",
            DateCell(1.0),
        ),
        TenantImportOptions(),
    )

    assert columns.present == {"email", "first_name", "last_name"}
    assert columns.index("email") == 1
    assert columns.index("first_name") == 3
    assert columns.index("last_name") == 5
    assert columns.index("enabled") is None
    assert not columns.has("enabled")
    assert columns.has("email")


def test_missing_columns_fail() -> None:
    with pytest.raises(HeaderInvalid) as raised:
        validate_header(header("Elenco utenti – marzo 2025"), TenantImportOptions())

    error = raised.value
    assert isinstance(error, FileUnreadable)
    assert error.errors == {
        "email": ["The email column is missing from the header row."],
        "first_name": ["The first_name column is missing from the header row."],
        "last_name": ["The last_name column is missing from the header row."],
    }
    assert error.message == (
        "The header row is missing the required columns: email, first_name, last_name. "
        "The first row of the file must name the columns."
    )
    assert error.missing == [Column.EMAIL, Column.FIRST_NAME, Column.LAST_NAME]


def test_empty_header_fails() -> None:
    with pytest.raises(HeaderInvalid) as raised:
        validate_header(header(), TenantImportOptions())

    assert list(raised.value.errors) == ["email", "first_name", "last_name"]


@pytest.mark.parametrize(
    ("options", "required"),
    [
        (TenantImportOptions(), []),
        (TenantImportOptions(external_ids=True), ["cid"]),
        (
            TenantImportOptions(business_units=True),
            ["business_unit_code", "business_unit_name"],
        ),
        (
            TenantImportOptions(organizational_units=True),
            ["organizational_unit_code", "organizational_unit_name"],
        ),
    ],
)
def test_tenant_options_require_columns(
    options: TenantImportOptions, required: list[str]
) -> None:
    if not required:
        assert validate_header(header(*BASIC), options).present == set(BASIC)
        return

    with pytest.raises(HeaderInvalid) as raised:
        validate_header(header(*BASIC), options)

    assert list(raised.value.errors) == required
    for column in required:
        assert column in raised.value.message


def test_parent_column_optional() -> None:
    names = (*BASIC, "organizational_unit_code", "organizational_unit_name")
    columns = validate_header(
        header(*names), TenantImportOptions(organizational_units=True)
    )

    assert not columns.has("parent_organizational_unit_code")
    assert columns.has("organizational_unit_code")


def test_repeated_column_fails() -> None:
    with pytest.raises(HeaderInvalid) as raised:
        validate_header(
            header("email", "first_name", "last_name", "EMAIL ", "cid", "Email"),
            TenantImportOptions(),
        )

    error = raised.value
    assert error.errors == {
        "email": [
            "The email column appears more than once in the header row "
            "(columns 1, 4 and 6)."
        ]
    }
    assert error.repeated == {Column.EMAIL: [1, 4, 6]}
    assert error.message == (
        "The header row repeats the column: email. "
        "The first row of the file must name the columns."
    )


def test_missing_and_repeated_together() -> None:
    with pytest.raises(HeaderInvalid) as raised:
        validate_header(header("email", "cid", "cid"), TenantImportOptions())

    assert list(raised.value.errors) == ["first_name", "last_name", "cid"]
    assert "first_name, last_name" in raised.value.message
    assert "repeats the column: cid" in raised.value.message


def test_repeated_unknown_column_allowed() -> None:
    columns = validate_header(
        header(*BASIC, "Notes", "notes", ""), TenantImportOptions()
    )

    assert columns.present == set(BASIC)


def test_unit_columns_ignored_without_units() -> None:
    columns = validate_header(
        header(*ALL_COLUMNS), TenantImportOptions(external_ids=True)
    )

    assert columns.present == {
        "email",
        "cid",
        "first_name",
        "last_name",
        "enabled",
        "language_id",
        "country_id",
    }
    assert columns.index("business_unit_code") is None
    assert columns.index("organizational_unit_code") is None


def test_column_map_accepts_plain_names() -> None:
    columns = ColumnMap({"email": 2, "first_name": 0})

    assert columns.index("email") == 2
    assert columns.index(Column.FIRST_NAME) == 0
    assert columns.present == {"email", "first_name"}
    with pytest.raises(ValueError, match="surname"):
        ColumnMap({"surname": 1})
