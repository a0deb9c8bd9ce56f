"""The row rules: check every cell of a row and normalise its values.

``RowValidator`` is built once per job and checks one row at a time, with no
state carried between rows, so a job that resumes after its checkpoint
validates the remaining rows the same way. Rules that need the whole file
or the database (repeated emails and cids, removed users, unit trees) are
the pipeline's; their messages are in ``messages``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

from maizeplus.imports import messages
from maizeplus.imports.cells import Cell, SheetRow
from maizeplus.imports.columns import Column, ColumnMap, TenantImportOptions
from maizeplus.imports.email_check import EmailChecker

# Trimmed from both ends of every value before the rules run: spaces, tabs,
# NBSP, and line breaks. Line breaks inside a value are kept.
TRIMMED = " \t\r\n\u00a0"

_BOOLEANS = {"true": True, "false": False}
_EMAIL = Column.EMAIL.value
_ENABLED = Column.ENABLED.value


class ValidatedRow(NamedTuple):
    """One row after the rules: its errors and its normalised values.

    A value is None when its column is absent from the file, its cell is
    empty, or the cell failed a rule. ``present`` lists the columns of the
    file, and only those may change a stored user. ``errors`` maps each
    failing column to all of its messages, and is empty for a valid row.
    """

    number: int
    errors: dict[str, list[str]]
    email: str | None
    cid: str | None
    first_name: str | None
    last_name: str | None
    enabled: bool | None
    language_code: str | None
    country_code: str | None
    business_unit_code: str | None
    business_unit_name: str | None
    organizational_unit_code: str | None
    organizational_unit_name: str | None
    parent_organizational_unit_code: str | None
    present: frozenset[str]

    @property
    def is_valid(self) -> bool:
        return not self.errors

    def has(self, column: str) -> bool:
        """Return whether the file has this column, so its value is to be applied."""
        return column in self.present


# The checks of one column: take the cell and the row's errors, record the
# column's messages there, and return the normalised value or None.
CellCheck = Callable[[Cell, dict[str, list[str]]], object]

# The value fields of ``ValidatedRow``, between ``errors`` and ``present``.
_VALUE_FIELDS = ValidatedRow._fields[2:-1]
_FIELD_OF_COLUMN = {
    Column.EMAIL: "email",
    Column.CID: "cid",
    Column.FIRST_NAME: "first_name",
    Column.LAST_NAME: "last_name",
    Column.ENABLED: "enabled",
    Column.LANGUAGE_ID: "language_code",
    Column.COUNTRY_ID: "country_code",
    Column.BUSINESS_UNIT_CODE: "business_unit_code",
    Column.BUSINESS_UNIT_NAME: "business_unit_name",
    Column.ORGANIZATIONAL_UNIT_CODE: "organizational_unit_code",
    Column.ORGANIZATIONAL_UNIT_NAME: "organizational_unit_name",
    Column.PARENT_ORGANIZATIONAL_UNIT_CODE: "parent_organizational_unit_code",
}


class _Step(NamedTuple):
    field: int  # position of the column's value among ``_VALUE_FIELDS``
    cell: int  # index of the column's cell in the row
    check: CellCheck


class RowValidator:
    """The row rules of one job, applied to one row at a time."""

    __slots__ = ("_absent_values", "_email_checker", "_padding", "_present", "_steps")

    def __init__(
        self,
        columns: ColumnMap,
        options: TenantImportOptions,
        *,
        languages: Iterable[str],
        countries: Iterable[str],
        email_checker: EmailChecker | None = None,
    ) -> None:
        """Build the validator for one job.

        ``languages`` are the known ISO 639-1 codes and ``countries`` the
        known ISO 3166-1 alpha-2 codes, in any letter case.
        """
        self._email_checker = email_checker or EmailChecker()
        checks = _column_checks(
            self._check_email,
            options,
            frozenset(code.lower() for code in languages),
            frozenset(code.upper() for code in countries),
        )
        # Only the columns of the file get a step; the others stay None.
        self._steps = tuple(
            _Step(_VALUE_FIELDS.index(_FIELD_OF_COLUMN[column]), index, checks[column])
            for column in Column
            if (index := columns.index(column)) is not None
        )
        width = max((step.cell + 1 for step in self._steps), default=0)
        self._padding: tuple[Cell, ...] = ("",) * width
        self._absent_values: list[object] = [None] * len(_VALUE_FIELDS)
        self._present = columns.present

    def validate(self, row: SheetRow) -> ValidatedRow:
        """Check every rule on the row and return its values with every error."""
        cells = row.cells
        if len(cells) < len(self._padding):
            # A short row, such as a CSV line with fewer separators, has empty cells.
            cells = cells + self._padding[len(cells) :]
        errors: dict[str, list[str]] = {}
        values = self._absent_values.copy()
        for field, index, check in self._steps:
            values[field] = check(cells[index], errors)
        # tuple.__new__ is what ValidatedRow._make calls, without its overhead.
        return tuple.__new__(ValidatedRow, (row.number, errors, *values, self._present))

    def _check_email(self, cell: Cell, errors: dict[str, list[str]]) -> str | None:
        if type(cell) is not str:
            errors[_EMAIL] = [messages.date_cell(_EMAIL)]
            return None
        text = cell.strip(TRIMMED)
        if not text:
            errors[_EMAIL] = [messages.required(_EMAIL)]
            return None
        address, error = self._email_checker.check(text)
        if error is not None:
            errors[_EMAIL] = [error]
            return None
        return address


def _column_checks(
    check_email: CellCheck,
    options: TenantImportOptions,
    languages: frozenset[str],
    countries: frozenset[str],
) -> dict[Column, CellCheck]:
    return {
        Column.EMAIL: check_email,
        Column.CID: _text_check(Column.CID, required=options.external_ids),
        Column.FIRST_NAME: _text_check(Column.FIRST_NAME, required=True),
        Column.LAST_NAME: _text_check(Column.LAST_NAME, required=True),
        Column.ENABLED: _check_enabled,
        Column.LANGUAGE_ID: _code_check(Column.LANGUAGE_ID, languages, str.lower),
        Column.COUNTRY_ID: _code_check(Column.COUNTRY_ID, countries, str.upper),
        Column.BUSINESS_UNIT_CODE: _text_check(
            Column.BUSINESS_UNIT_CODE, required=options.business_units
        ),
        Column.BUSINESS_UNIT_NAME: _text_check(
            Column.BUSINESS_UNIT_NAME, required=options.business_units
        ),
        Column.ORGANIZATIONAL_UNIT_CODE: _text_check(
            Column.ORGANIZATIONAL_UNIT_CODE, required=options.organizational_units
        ),
        Column.ORGANIZATIONAL_UNIT_NAME: _text_check(
            Column.ORGANIZATIONAL_UNIT_NAME, required=options.organizational_units
        ),
        Column.PARENT_ORGANIZATIONAL_UNIT_CODE: _text_check(
            Column.PARENT_ORGANIZATIONAL_UNIT_CODE, required=False
        ),
    }


def _text_check(column: Column, *, required: bool) -> CellCheck:
    """Return the check of a text stored verbatim: at most 255 characters."""
    name = column.value
    maximum = messages.MAX_TEXT_LENGTH

    def check_text(cell: Cell, errors: dict[str, list[str]]) -> str | None:
        if type(cell) is not str:
            errors[name] = [messages.date_cell(name)]
            return None
        text = cell.strip(TRIMMED)
        if not text:
            if required:
                errors[name] = [messages.required(name)]
            return None
        if len(text) > maximum:
            errors[name] = [messages.too_long(name)]
            return None
        return text

    return check_text


def _code_check(
    column: Column, codes: frozenset[str], normalise: Callable[[str], str]
) -> CellCheck:
    """Return the check of an optional code that must be one of ``codes``."""
    name = column.value

    def check_code(cell: Cell, errors: dict[str, list[str]]) -> str | None:
        if type(cell) is not str:
            errors[name] = [messages.date_cell(name)]
            return None
        text = cell.strip(TRIMMED)
        if not text:
            return None
        code = normalise(text)
        if code not in codes:
            errors[name] = [messages.invalid_selection(name)]
            return None
        return code

    return check_code


def _check_enabled(cell: Cell, errors: dict[str, list[str]]) -> bool | None:
    if type(cell) is not str:
        errors[_ENABLED] = [messages.date_cell(_ENABLED)]
        return None
    text = cell.strip(TRIMMED)
    if not text:
        return None
    enabled = _BOOLEANS.get(text.lower())
    if enabled is None:
        errors[_ENABLED] = [messages.INVALID_ENABLED]
    return enabled
