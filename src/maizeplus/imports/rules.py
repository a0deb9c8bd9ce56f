"""The row rules: check every cell of a row and normalise its values.

``RowValidator`` is built once per job and checks one row at a time, with no
state carried between rows, so a job that resumes after its checkpoint
validates the remaining rows the same way. Rules that need the whole file
or the database (repeated emails and cids, removed users, unit trees) are
the pipeline's; their messages are in ``messages``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

from maizeplus.imports import messages
from maizeplus.imports.cells import Cell, SheetRow
from maizeplus.imports.columns import Column, ColumnMap, TenantImportOptions
from maizeplus.imports.email_check import EmailChecker

# Trimmed from both ends of every value before the rules run: spaces, tabs,
# NBSP, and line breaks. Line breaks inside a value are kept.
TRIMMED = " \t\r\n\u00a0"

BOOLEANS = {"true": True, "false": False}
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


class RuleKind(enum.Enum):
    """The kinds of column rule, each with its own check."""

    EMAIL = "email"
    TEXT = "text"
    CODE = "code"
    ENABLED = "enabled"


@dataclass(frozen=True)
class ColumnRule:
    """What one column must contain, as data that both row and chunk checks read.

    ``required`` applies to text; ``codes`` and ``normalise`` to codes.
    """

    column: Column
    kind: RuleKind
    required: bool = False
    codes: frozenset[str] = frozenset()
    normalise: Callable[[str], str] = str

    @property
    def name(self) -> str:
        return self.column.value


class ColumnStep(NamedTuple):
    """The rule of one column of the file and where its cell and value go."""

    field: int  # position of the column's value among the value fields
    cell: int  # index of the column's cell in the row
    rule: ColumnRule
    check: CellCheck


class RowValidator:
    """The row rules of one job, applied to one row at a time."""

    __slots__ = (
        "_absent_values",
        "_email_checker",
        "_padding",
        "_present",
        "steps",
    )

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
        rules = column_rules(
            options,
            frozenset(code.lower() for code in languages),
            frozenset(code.upper() for code in countries),
        )
        # Only the columns of the file get a step; the others stay None.
        self.steps = tuple(
            ColumnStep(
                _VALUE_FIELDS.index(_FIELD_OF_COLUMN[column]),
                index,
                rules[column],
                self._cell_check(rules[column]),
            )
            for column in Column
            if (index := columns.index(column)) is not None
        )
        width = max((step.cell + 1 for step in self.steps), default=0)
        self._padding: tuple[Cell, ...] = ("",) * width
        self._absent_values: list[object] = [None] * len(_VALUE_FIELDS)
        self._present = columns.present

    @property
    def email_checker(self) -> EmailChecker:
        return self._email_checker

    @property
    def present(self) -> frozenset[str]:
        """The columns of the file, which ``ValidatedRow.present`` carries."""
        return self._present

    @property
    def width(self) -> int:
        """The number of cells a row needs so that every checked column has one."""
        return len(self._padding)

    def validate(self, row: SheetRow) -> ValidatedRow:
        """Check every rule on the row and return its values with every error."""
        cells = row.cells
        if len(cells) < len(self._padding):
            # A short row, such as a CSV line with fewer separators, has empty cells.
            cells = cells + self._padding[len(cells) :]
        errors: dict[str, list[str]] = {}
        values = self._absent_values.copy()
        for field, index, _rule, check in self.steps:
            values[field] = check(cells[index], errors)
        # tuple.__new__ is what ValidatedRow._make calls, without its overhead.
        return tuple.__new__(ValidatedRow, (row.number, errors, *values, self._present))

    def _cell_check(self, rule: ColumnRule) -> CellCheck:
        if rule.kind is RuleKind.EMAIL:
            return self._check_email
        if rule.kind is RuleKind.TEXT:
            return _text_check(rule.column, required=rule.required)
        if rule.kind is RuleKind.CODE:
            return _code_check(rule.column, rule.codes, rule.normalise)
        return _check_enabled

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


def column_rules(
    options: TenantImportOptions,
    languages: frozenset[str],
    countries: frozenset[str],
) -> dict[Column, ColumnRule]:
    """Return the rule of every column for a tenant with these options."""

    def text(column: Column, required: bool) -> ColumnRule:
        return ColumnRule(column, RuleKind.TEXT, required=required)

    return {
        Column.EMAIL: ColumnRule(Column.EMAIL, RuleKind.EMAIL),
        Column.CID: text(Column.CID, options.external_ids),
        Column.FIRST_NAME: text(Column.FIRST_NAME, True),
        Column.LAST_NAME: text(Column.LAST_NAME, True),
        Column.ENABLED: ColumnRule(Column.ENABLED, RuleKind.ENABLED),
        Column.LANGUAGE_ID: ColumnRule(
            Column.LANGUAGE_ID, RuleKind.CODE, codes=languages, normalise=str.lower
        ),
        Column.COUNTRY_ID: ColumnRule(
            Column.COUNTRY_ID, RuleKind.CODE, codes=countries, normalise=str.upper
        ),
        Column.BUSINESS_UNIT_CODE: text(
            Column.BUSINESS_UNIT_CODE, options.business_units
        ),
        Column.BUSINESS_UNIT_NAME: text(
            Column.BUSINESS_UNIT_NAME, options.business_units
        ),
        Column.ORGANIZATIONAL_UNIT_CODE: text(
            Column.ORGANIZATIONAL_UNIT_CODE, options.organizational_units
        ),
        Column.ORGANIZATIONAL_UNIT_NAME: text(
            Column.ORGANIZATIONAL_UNIT_NAME, options.organizational_units
        ),
        Column.PARENT_ORGANIZATIONAL_UNIT_CODE: text(
            Column.PARENT_ORGANIZATIONAL_UNIT_CODE, False
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
    enabled = BOOLEANS.get(text.lower())
    if enabled is None:
        errors[_ENABLED] = [messages.INVALID_ENABLED]
    return enabled
