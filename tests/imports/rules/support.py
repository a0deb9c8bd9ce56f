"""Builders shared by the row-rule tests: reference codes, headers and validators."""

from __future__ import annotations

from collections.abc import Sequence

import pycountry

from maizeplus.imports.cells import Cell, SheetRow
from maizeplus.imports.columns import Column, TenantImportOptions, validate_header
from maizeplus.imports.email_check import EmailChecker
from maizeplus.imports.rules import RowValidator, ValidatedRow

# The codes the platform loads from pycountry into its reference tables.
LANGUAGES = frozenset(
    language.alpha_2 for language in pycountry.languages if hasattr(language, "alpha_2")
)
COUNTRIES = frozenset(country.alpha_2 for country in pycountry.countries)

ALL_COLUMNS = tuple(column.value for column in Column)
EVERY_UNIT = TenantImportOptions(
    external_ids=True, business_units=True, organizational_units=True
)

# One checker for the whole module keeps its domain verdicts between tests.
EMAIL_CHECKER = EmailChecker()

GOOD_ROW = {
    "email": "anna.verdi@example.com",
    "cid": "A-1",
    "first_name": "Anna",
    "last_name": "Verdi",
    "enabled": "true",
    "language_id": "it",
    "country_id": "IT",
    "business_unit_code": "BU-1",
    "business_unit_name": "Sales",
    "organizational_unit_code": "OU-1",
    "organizational_unit_name": "Milan",
    "parent_organizational_unit_code": "",
}


def validator_for(
    header: Sequence[Cell] = ALL_COLUMNS,
    options: TenantImportOptions | None = None,
    email_checker: EmailChecker = EMAIL_CHECKER,
) -> RowValidator:
    options = options or TenantImportOptions()
    columns = validate_header(SheetRow(1, tuple(header)), options)
    return RowValidator(
        columns,
        options,
        languages=LANGUAGES,
        countries=COUNTRIES,
        email_checker=email_checker,
    )


def validate_values(
    options: TenantImportOptions | None = None, /, **changes: Cell
) -> ValidatedRow:
    """Validate GOOD_ROW as row 2, with ``changes`` applied, under every column."""
    values: dict[str, Cell] = {**GOOD_ROW, **changes}
    row = SheetRow(2, tuple(values[column] for column in ALL_COLUMNS))
    return validator_for(ALL_COLUMNS, options).validate(row)
