"""Row rules, column by column: accepted values, rejected values, exact messages."""

from __future__ import annotations

import pytest

from maizeplus.imports.cells import Cell, DateCell, SheetRow
from maizeplus.imports.columns import TenantImportOptions, validate_header
from maizeplus.imports.rules import RowValidator, ValidatedRow
from tests.imports.rules.support import (
    ALL_COLUMNS,
    EVERY_UNIT,
    GOOD_ROW,
    validate_values,
    validator_for,
)

EMAIL_REQUIRED = "The email field is required."
EMAIL_INVALID = "The email field must be a valid email address."
EMAIL_BAD_DOMAIN = "The selected email does not have a valid domain."
ENABLED_INVALID = "The enabled field must be true or false."
LANGUAGE_INVALID = "The selected language id is invalid."
COUNTRY_INVALID = "The selected country id is invalid."
DATE = DateCell(45994.0)


def date_message(column: str) -> str:
    attribute = column.replace("_", " ")
    return (
        f"The {attribute} field contains a date, not text. Format the {column} "
        "column as Text in the spreadsheet and enter the value again."
    )


def test_good_row_has_no_errors() -> None:
    validated = validate_values(EVERY_UNIT)

    assert validated.errors == {}
    assert validated.is_valid
    assert validated.number == 2
    assert validated.email == "anna.verdi@example.com"
    assert validated.cid == "A-1"
    assert validated.first_name == "Anna"
    assert validated.last_name == "Verdi"
    assert validated.enabled is True
    assert validated.language_code == "it"
    assert validated.country_code == "IT"
    assert validated.business_unit_code == "BU-1"
    assert validated.business_unit_name == "Sales"
    assert validated.organizational_unit_code == "OU-1"
    assert validated.organizational_unit_name == "Milan"
    assert validated.parent_organizational_unit_code is None


@pytest.mark.parametrize(
    ("cell", "stored"),
    [
        ("anna.verdi@example.com", "anna.verdi@example.com"),
        ("Nicolo.Ferri@EXAMPLE.com", "nicolo.ferri@example.com"),
        ("  anna.verdi@example.com", "anna.verdi@example.com"),
        ("\tmarta.galli@example.org\t", "marta.galli@example.org"),
        ("elena.rossi@example.net\u00a0", "elena.rossi@example.net"),
        ("paolo.neri@mail.example.co.uk", "paolo.neri@mail.example.co.uk"),
        ("o'brien+hr@example.ie", "o'brien+hr@example.ie"),
        ("Zoë.Martin@Exämple.com", "zoë.martin@exämple.com"),
    ],
)
def test_email_accepted(cell: str, stored: str) -> None:
    validated = validate_values(email=cell)

    assert validated.errors == {}
    assert validated.email == stored


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("", EMAIL_REQUIRED),
        (" \t\u00a0", EMAIL_REQUIRED),
        ("not-an-email", EMAIL_INVALID),
        ("anna.verdi(at)example.com", EMAIL_INVALID),
        ("marco russo@example.com", EMAIL_INVALID),
        ("luca\u200b.bianchi@example.com", EMAIL_INVALID),
        ("anna..verdi@example.com", EMAIL_INVALID),
        ("anna.verdi@example..com", EMAIL_INVALID),
        ('"anna"@example.com', EMAIL_INVALID),
        ("Anna <anna@example.com>", EMAIL_INVALID),
        ("anna@example.com.", EMAIL_INVALID),
        ("a" * 250 + "@example.com", EMAIL_INVALID),
        ("anna@foo.invalid", EMAIL_BAD_DOMAIN),
        ("anna@foo.local", EMAIL_BAD_DOMAIN),
        ("anna@localhost", EMAIL_BAD_DOMAIN),
        ("anna@foo.notatld", EMAIL_BAD_DOMAIN),
        ("anna@com", EMAIL_BAD_DOMAIN),
        ("anna@co.uk", EMAIL_BAD_DOMAIN),
        ("anna@[192.0.2.1]", EMAIL_BAD_DOMAIN),
        ("anna@192.0.2.1", EMAIL_BAD_DOMAIN),
        ("anna@example.onion", EMAIL_BAD_DOMAIN),
        (DATE, date_message("email")),
    ],
)
def test_email_rejected(cell: Cell, message: str) -> None:
    validated = validate_values(email=cell)

    assert validated.errors == {"email": [message]}
    assert validated.email is None


@pytest.mark.parametrize(
    ("cell", "stored"),
    [
        ("E-01", "E-01"),
        (" 12345 ", "12345"),
        ("-1+2", "-1+2"),
        ("", None),
        ("x" * 255, "x" * 255),
    ],
)
def test_cid_accepted(cell: str, stored: str | None) -> None:
    validated = validate_values(cid=cell)

    assert validated.errors == {}
    assert validated.cid == stored


@pytest.mark.parametrize(
    ("options", "cell", "message"),
    [
        (TenantImportOptions(external_ids=True), "", "The cid field is required."),
        (
            TenantImportOptions(),
            "x" * 256,
            "The cid field must not be greater than 255 characters.",
        ),
        (TenantImportOptions(), DATE, date_message("cid")),
        (TenantImportOptions(external_ids=True), DATE, date_message("cid")),
    ],
)
def test_cid_rejected(options: TenantImportOptions, cell: Cell, message: str) -> None:
    validated = validate_values(options, cid=cell)

    assert validated.errors == {"cid": [message]}
    assert validated.cid is None


@pytest.mark.parametrize("column", ["first_name", "last_name"])
@pytest.mark.parametrize(
    ("cell", "stored"),
    [
        ("Anna", "Anna"),
        (" Paolo ", "Paolo"),
        ("\u00a0Nicolò\t", "Nicolò"),
        ("Giulia\nMaria", "Giulia\nMaria"),
        ("D’Arcy", "D’Arcy"),
        ('Sofia "Sofi"', 'Sofia "Sofi"'),
        ("=cmd|' /C calc'!A0", "=cmd|' /C calc'!A0"),
        ("@SUM(1+1)", "@SUM(1+1)"),
        ("+Lombardi", "+Lombardi"),
        ("Zoë" + "e" * 252, "Zoë" + "e" * 252),
    ],
)
def test_name_accepted(column: str, cell: str, stored: str) -> None:
    validated = validate_values(**{column: cell})

    assert validated.errors == {}
    assert getattr(validated, column) == stored


@pytest.mark.parametrize("column", ["first_name", "last_name"])
@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("", "The {attribute} field is required."),
        ("  \t", "The {attribute} field is required."),
        (
            "Zoë" + "e" * 253,
            "The {attribute} field must not be greater than 255 characters.",
        ),
        (
            "B" * 200_000,
            "The {attribute} field must not be greater than 255 characters.",
        ),
    ],
)
def test_name_rejected(column: str, cell: str, message: str) -> None:
    validated = validate_values(**{column: cell})

    expected = message.format(attribute=column.replace("_", " "))
    assert validated.errors == {column: [expected]}
    assert getattr(validated, column) is None


@pytest.mark.parametrize("column", ["first_name", "last_name"])
def test_name_date_cell_rejected(column: str) -> None:
    validated = validate_values(**{column: DATE})

    assert validated.errors == {column: [date_message(column)]}


@pytest.mark.parametrize(
    ("cell", "stored"),
    [
        ("true", True),
        ("TRUE", True),
        ("True ", True),
        (" true ", True),
        ("false", False),
        ("FALSE", False),
        ("False", False),
        ("\tfalse\u00a0", False),
        ("", None),
        ("  ", None),
    ],
)
def test_enabled_accepted(cell: str, stored: bool | None) -> None:
    validated = validate_values(enabled=cell)

    assert validated.errors == {}
    assert validated.enabled is stored


@pytest.mark.parametrize(
    "cell", ["0", "1", "yes", "no", "on", "off", "t", "vero", "true1"]
)
def test_enabled_rejected(cell: str) -> None:
    validated = validate_values(enabled=cell)

    assert validated.errors == {"enabled": [ENABLED_INVALID]}
    assert validated.enabled is None


def test_enabled_date_cell_rejected() -> None:
    validated = validate_values(enabled=DATE)

    assert validated.errors == {"enabled": [date_message("enabled")]}


@pytest.mark.parametrize(
    ("cell", "stored"), [("it", "it"), ("IT", "it"), (" En ", "en"), ("", None)]
)
def test_language_accepted(cell: str, stored: str | None) -> None:
    validated = validate_values(language_id=cell)

    assert validated.errors == {}
    assert validated.language_code == stored


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("ita", LANGUAGE_INVALID),
        ("xx", LANGUAGE_INVALID),
        ("it-IT", LANGUAGE_INVALID),
        ("Italiano", LANGUAGE_INVALID),
        (DATE, date_message("language_id")),
    ],
)
def test_language_rejected(cell: Cell, message: str) -> None:
    validated = validate_values(language_id=cell)

    assert validated.errors == {"language_id": [message]}
    assert validated.language_code is None


@pytest.mark.parametrize(
    ("cell", "stored"), [("IT", "IT"), ("gb", "GB"), (" Ie ", "IE"), ("", None)]
)
def test_country_accepted(cell: str, stored: str | None) -> None:
    validated = validate_values(country_id=cell)

    assert validated.errors == {}
    assert validated.country_code == stored


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("ITA", COUNTRY_INVALID),
        ("UK", COUNTRY_INVALID),
        ("Italy", COUNTRY_INVALID),
        (DATE, date_message("country_id")),
    ],
)
def test_country_rejected(cell: Cell, message: str) -> None:
    validated = validate_values(country_id=cell)

    assert validated.errors == {"country_id": [message]}
    assert validated.country_code is None


def test_codes_from_reference_sets() -> None:
    validator = validator_for(
        ("email", "first_name", "last_name", "language_id", "country_id")
    )
    row = SheetRow(2, ("a@example.com", "A", "B", "it", "IT"))
    known = validator.validate(row)

    assert known.errors == {}

    header = SheetRow(
        1, ("email", "first_name", "last_name", "language_id", "country_id")
    )
    options = TenantImportOptions()
    narrow = RowValidator(
        validate_header(header, options), options, languages={"EN"}, countries={"gb"}
    )

    assert (
        narrow.validate(SheetRow(2, ("a@example.com", "A", "B", "en", "GB"))).errors
        == {}
    )
    assert set(narrow.validate(row).errors) == {"language_id", "country_id"}


@pytest.mark.parametrize(
    "column",
    [
        "business_unit_code",
        "business_unit_name",
        "organizational_unit_code",
        "organizational_unit_name",
    ],
)
def test_unit_column_required_with_units(column: str) -> None:
    validated = validate_values(EVERY_UNIT, **{column: ""})

    attribute = column.replace("_", " ")
    assert validated.errors == {column: [f"The {attribute} field is required."]}


@pytest.mark.parametrize(
    "column",
    [
        "business_unit_code",
        "business_unit_name",
        "organizational_unit_code",
        "organizational_unit_name",
        "parent_organizational_unit_code",
    ],
)
def test_unit_column_too_long(column: str) -> None:
    validated = validate_values(EVERY_UNIT, **{column: "u" * 256})

    attribute = column.replace("_", " ")
    message = f"The {attribute} field must not be greater than 255 characters."
    assert validated.errors == {column: [message]}


def test_parent_unit_optional() -> None:
    empty = validate_values(EVERY_UNIT, parent_organizational_unit_code="  ")
    given = validate_values(EVERY_UNIT, parent_organizational_unit_code=" OU-0 ")

    assert empty.errors == {}
    assert empty.parent_organizational_unit_code is None
    assert given.errors == {}
    assert given.parent_organizational_unit_code == "OU-0"


def test_unit_columns_ignored_without_units() -> None:
    validated = validate_values(
        TenantImportOptions(),
        business_unit_code="BU-9",
        business_unit_name="",
        organizational_unit_code="OU-9",
        organizational_unit_name="",
        parent_organizational_unit_code="OU-8",
    )

    assert validated.errors == {}
    assert validated.business_unit_code is None
    assert validated.organizational_unit_code is None
    assert validated.parent_organizational_unit_code is None
    assert not validated.has("business_unit_code")
    assert not validated.has("organizational_unit_code")


def test_every_failing_rule_reported() -> None:
    validated = validate_values(
        EVERY_UNIT,
        email="marco russo@example.com",
        cid="",
        first_name="",
        last_name="x" * 256,
        enabled="yes",
        language_id="ita",
        country_id="ITA",
        business_unit_code=DATE,
        business_unit_name="",
        organizational_unit_code="",
        organizational_unit_name="n" * 300,
        parent_organizational_unit_code="p" * 256,
    )

    assert validated.errors == {
        "email": [EMAIL_INVALID],
        "cid": ["The cid field is required."],
        "first_name": ["The first name field is required."],
        "last_name": ["The last name field must not be greater than 255 characters."],
        "enabled": [ENABLED_INVALID],
        "language_id": [LANGUAGE_INVALID],
        "country_id": [COUNTRY_INVALID],
        "business_unit_code": [date_message("business_unit_code")],
        "business_unit_name": ["The business unit name field is required."],
        "organizational_unit_code": ["The organizational unit code field is required."],
        "organizational_unit_name": [
            "The organizational unit name field must not be greater than 255 "
            "characters."
        ],
        "parent_organizational_unit_code": [
            "The parent organizational unit code field must not be greater than 255 "
            "characters."
        ],
    }
    assert not validated.is_valid


def test_short_row_cells_are_empty() -> None:
    validator = validator_for(ALL_COLUMNS, TenantImportOptions(external_ids=True))
    validated = validator.validate(SheetRow(7, ("anna.verdi@example.com", "A-1")))

    assert validated.number == 7
    assert validated.errors == {
        "first_name": ["The first name field is required."],
        "last_name": ["The last name field is required."],
    }
    assert validated.enabled is None
    assert validated.language_code is None


def test_extra_cells_ignored() -> None:
    validator = validator_for(("email", "first_name", "last_name"))
    validated = validator.validate(
        SheetRow(2, ("anna.verdi@example.com", "Anna", "Verdi", "surplus", DATE))
    )

    assert validated.errors == {}


def test_absent_columns_not_present() -> None:
    validator = validator_for(("Notes", "last_name", "email", "first_name"))
    validated = validator.validate(
        SheetRow(2, ("x", "Verdi", "anna.verdi@example.com", "Anna"))
    )

    assert validated.errors == {}
    assert validated.present == {"email", "first_name", "last_name"}
    assert validated.has("email")
    assert not validated.has("enabled")
    assert not validated.has("cid")
    assert validated.enabled is None
    assert validated.cid is None
    assert validated.first_name == "Anna"
    assert validated.last_name == "Verdi"


def test_validated_row_fields() -> None:
    assert ValidatedRow._fields == (
        "number",
        "errors",
        "email",
        "cid",
        "first_name",
        "last_name",
        "enabled",
        "language_code",
        "country_code",
        "business_unit_code",
        "business_unit_name",
        "organizational_unit_code",
        "organizational_unit_name",
        "parent_organizational_unit_code",
        "present",
    )


def test_rows_do_not_share_errors() -> None:
    validator = validator_for()
    bad = validator.validate(SheetRow(2, ("", *list(GOOD_ROW.values())[1:])))
    good = validator.validate(SheetRow(3, tuple(GOOD_ROW.values())))

    assert bad.errors == {"email": [EMAIL_REQUIRED]}
    assert good.errors == {}
