"""The header row: where each known column sits, and which columns a tenant requires."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from maizeplus.imports import messages
from maizeplus.imports.cells import SheetRow
from maizeplus.imports.errors import FileUnreadable

# Trimmed from header names: spaces, tabs, NBSP, and a byte-order mark that a
# reader left on the first name.
HEADER_TRIMMED = " \t\u00a0\ufeff"


class Column(enum.StrEnum):
    """The columns of an import file."""

    EMAIL = "email"
    CID = "cid"
    FIRST_NAME = "first_name"
    LAST_NAME = "last_name"
    ENABLED = "enabled"
    LANGUAGE_ID = "language_id"
    COUNTRY_ID = "country_id"
    BUSINESS_UNIT_CODE = "business_unit_code"
    BUSINESS_UNIT_NAME = "business_unit_name"
    ORGANIZATIONAL_UNIT_CODE = "organizational_unit_code"
    ORGANIZATIONAL_UNIT_NAME = "organizational_unit_name"
    PARENT_ORGANIZATIONAL_UNIT_CODE = "parent_organizational_unit_code"


BUSINESS_UNIT_COLUMNS = frozenset(
    {Column.BUSINESS_UNIT_CODE, Column.BUSINESS_UNIT_NAME}
)
ORGANIZATIONAL_UNIT_COLUMNS = frozenset(
    {
        Column.ORGANIZATIONAL_UNIT_CODE,
        Column.ORGANIZATIONAL_UNIT_NAME,
        Column.PARENT_ORGANIZATIONAL_UNIT_CODE,
    }
)


@dataclass(frozen=True, slots=True)
class TenantImportOptions:
    """The tenant's settings that decide which columns an import requires."""

    external_ids: bool = False
    business_units: bool = False
    organizational_units: bool = False

    def required_columns(self) -> tuple[Column, ...]:
        """Return the columns that the header must contain, email first."""
        columns = [Column.EMAIL]
        if self.external_ids:
            columns.append(Column.CID)
        columns += [Column.FIRST_NAME, Column.LAST_NAME]
        if self.business_units:
            columns += [Column.BUSINESS_UNIT_CODE, Column.BUSINESS_UNIT_NAME]
        if self.organizational_units:
            columns += [
                Column.ORGANIZATIONAL_UNIT_CODE,
                Column.ORGANIZATIONAL_UNIT_NAME,
            ]
        return tuple(columns)

    def ignores(self, column: Column) -> bool:
        """Return whether the tenant lacks the feature behind a unit column."""
        if column in BUSINESS_UNIT_COLUMNS:
            return not self.business_units
        if column in ORGANIZATIONAL_UNIT_COLUMNS:
            return not self.organizational_units
        return False


class ColumnMap:
    """The known columns of one file and the index of each in a row's cells.

    A column that the file lacks is not present, and neither is a unit column
    of a tenant without that kind of unit. The pipeline applies only the
    present columns, so a column missing from the file leaves the stored
    values alone.
    """

    __slots__ = ("indexes", "present")

    def __init__(self, indexes: Mapping[str, int]) -> None:
        """Map known column names (``Column`` members or their values) to indexes."""
        self.indexes: Mapping[str, int] = {
            Column(column): index for column, index in indexes.items()
        }
        self.present: frozenset[str] = frozenset(indexes)

    def __repr__(self) -> str:
        return f"ColumnMap({dict(self.indexes)!r})"

    def index(self, column: str) -> int | None:
        """Return the 0-based cell index of a known column, or None if it is absent."""
        return self.indexes.get(column)

    def has(self, column: str) -> bool:
        return column in self.present


class HeaderInvalid(FileUnreadable):
    """The header row lacks required columns or repeats a column, so the job fails.

    ``errors`` maps each such column to its messages, which the job reports
    as the errors of row 1.
    """

    def __init__(
        self, missing: list[Column], repeated: dict[Column, list[int]]
    ) -> None:
        self.missing = missing
        self.repeated = repeated
        self.errors: dict[str, list[str]] = {}
        for column in missing:
            self.errors[column.value] = [messages.missing_column(column.value)]
        for column, positions in repeated.items():
            self.errors[column.value] = [
                messages.repeated_column(column.value, positions)
            ]
        super().__init__(
            messages.invalid_header(
                [column.value for column in missing],
                [column.value for column in repeated],
            )
        )


def header_name(cell: object) -> str:
    """Return a header cell as names are compared: trimmed and in lower case."""
    if not isinstance(cell, str):
        return ""
    return cell.strip(HEADER_TRIMMED).lower()


def validate_header(header: SheetRow, options: TenantImportOptions) -> ColumnMap:
    """Map the known columns of the header row, or raise ``HeaderInvalid``.

    Unknown and empty names are ignored, and so are the unit columns of a
    tenant without that kind of unit.
    """
    positions = _known_column_positions(header)
    missing = [
        column for column in options.required_columns() if column not in positions
    ]
    repeated = {
        column: [index + 1 for index in indexes]
        for column, indexes in positions.items()
        if len(indexes) > 1
    }
    if missing or repeated:
        raise HeaderInvalid(missing, repeated)

    first_indexes: dict[str, int] = {
        column: indexes[0]
        for column, indexes in positions.items()
        if not options.ignores(column)
    }
    return ColumnMap(first_indexes)


def _known_column_positions(header: SheetRow) -> dict[Column, list[int]]:
    known = {column.value: column for column in Column}
    positions: dict[Column, list[int]] = {}
    for index, cell in enumerate(header.cells):
        column = known.get(header_name(cell))
        if column is not None:
            positions.setdefault(column, []).append(index)
    return positions
