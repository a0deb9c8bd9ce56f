"""The chunk path of the row rules gives what the row path gives, row for row."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maizeplus.imports.cells import Cell, DateCell, SheetRow
from maizeplus.imports.chunk_rules import validate_chunk
from maizeplus.imports.columns import TenantImportOptions
from tests.imports.rules.support import ALL_COLUMNS, GOOD_ROW, validator_for

BLANKS = st.sampled_from(["", " ", "\t", "\u00a0", "\r\n", "  \u00a0"])
EMAILS = st.sampled_from(
    [
        "anna.verdi@example.com",
        "Nicolo.Ferri@EXAMPLE.com",
        "zoë@example.com",
        "anna@bücher.de",
        "anna@localhost",
        "anna@foo.invalid",
        "anna@[127.0.0.1]",
        "anna..verdi@example.com",
        "anna@xn--bcher-kva.de",
        "a" * 250 + "@example.com",
        "anna@" + "a" * 70 + ".com",
        "no-at-sign",
        "anna verdi@example.com",
        '"anna verdi"@example.com',
        "anna@example.co.uk",
        "anna@ex-ample.it",
        "anna@example.com\nbob@example.com",
    ]
)
TEXTS = st.one_of(
    st.sampled_from(["Anna", "Nicolò", "D’Arcy", "x" * 255, "x" * 256, "BU-1"]),
    st.text(max_size=8),
)
CODES = st.sampled_from(["it", "IT", "It", "en", "xx", "ITA", "de", "us", "US"])
ENABLED = st.sampled_from(["true", "false", "TRUE", "False", "yes", "1", ""])


def cells(values: st.SearchStrategy[str]) -> st.SearchStrategy[Cell]:
    padded = st.tuples(BLANKS, values, BLANKS).map("".join)
    dates: st.SearchStrategy[Cell] = st.just(DateCell(45994.0))
    return st.one_of(values, padded, st.just(""), dates)


COLUMN_VALUES: dict[str, st.SearchStrategy[Cell]] = {
    "email": cells(EMAILS),
    "enabled": cells(ENABLED),
    "language_id": cells(CODES),
    "country_id": cells(CODES),
}


@st.composite
def sheet_rows(draw: st.DrawFn, header: tuple[str, ...]) -> list[SheetRow]:
    count = draw(st.integers(min_value=1, max_value=40))
    rows = []
    for number in range(2, count + 2):
        row = tuple(
            draw(COLUMN_VALUES.get(column, cells(TEXTS)))
            if draw(st.booleans())
            else GOOD_ROW[column]
            for column in header
        )
        # A CSV line with fewer separators yields fewer cells.
        length = draw(st.integers(min_value=0, max_value=len(row)))
        rows.append(SheetRow(number, row[:length] if draw(st.booleans()) else row))
    return rows


OPTIONS = st.builds(
    TenantImportOptions,
    external_ids=st.booleans(),
    business_units=st.booleans(),
    organizational_units=st.booleans(),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), options=OPTIONS)
def test_chunk_path_equals_row_path(
    data: st.DataObject, options: TenantImportOptions
) -> None:
    header = tuple(
        column
        for column in ALL_COLUMNS
        if column in {"email", "first_name", "last_name"} or data.draw(st.booleans())
    )
    if options.external_ids:
        header = (*header, "cid") if "cid" not in header else header
    unit_columns = {
        "business_unit_code",
        "business_unit_name",
        "organizational_unit_code",
        "organizational_unit_name",
    }
    header = (*header, *sorted(unit_columns - set(header)))
    validator = validator_for(header, options)
    rows = data.draw(sheet_rows(header))

    by_chunk = validate_chunk(validator, rows)
    by_row = [validator.validate(row) for row in rows]

    assert by_chunk == by_row


def test_common_rows_skip_row_checks() -> None:
    validator = validator_for(ALL_COLUMNS)
    rows = [
        SheetRow(2, tuple(GOOD_ROW[column] for column in ALL_COLUMNS)),
        SheetRow(3, tuple(GOOD_ROW[column] for column in ALL_COLUMNS)),
    ]

    validated = validate_chunk(validator, rows)

    assert [row.errors for row in validated] == [{}, {}]
    assert validated[0].errors is validated[1].errors
    assert validated[1].number == 3
    assert validated[1].email == "anna.verdi@example.com"
    assert validated[1].enabled is True
    assert validated[1].parent_organizational_unit_code is None


def test_date_cell_goes_to_row_check() -> None:
    validator = validator_for(ALL_COLUMNS)
    good = tuple(GOOD_ROW[column] for column in ALL_COLUMNS)
    dated = (good[0], good[1], DateCell(45994.0), *good[3:])

    validated = validate_chunk(validator, [SheetRow(2, good), SheetRow(3, dated)])

    assert validated[0].errors == {}
    assert list(validated[1].errors) == ["first_name"]
    assert validated[1].first_name is None


def test_line_break_in_email_cell() -> None:
    validator = validator_for(ALL_COLUMNS)
    good = tuple(GOOD_ROW[column] for column in ALL_COLUMNS)
    two_addresses = ("anna@example.com\nbob@example.com", *good[1:])
    rows = [SheetRow(2, good), SheetRow(3, two_addresses)]

    validated = validate_chunk(validator, rows)

    assert validated == [validator.validate(row) for row in rows]
    assert validated[1].errors == {
        "email": ["The email field must be a valid email address."]
    }
