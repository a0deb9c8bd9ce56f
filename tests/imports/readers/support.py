"""Reading a file through ``open_sheet`` into plain values that tests can compare."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from maizeplus.imports.cells import Cell, SheetRow
from maizeplus.imports.readers import FileFormat, ReadLimits, open_sheet
from maizeplus.settings import Settings

DEFAULT_LIMITS = ReadLimits.from_settings(Settings())

HEADER = (
    "email",
    "cid",
    "first_name",
    "last_name",
    "enabled",
    "language_id",
    "country_id",
    "business_unit_code",
    "business_unit_name",
    "organizational_unit_code",
    "organizational_unit_name",
    "parent_organizational_unit_code",
)


@dataclass(frozen=True)
class ReadResult:
    """Everything ``open_sheet`` gave for one file, with the rows read to the end."""

    format: FileFormat
    encoding: str | None
    separator: str | None
    header: SheetRow
    rows: list[SheetRow]

    def numbers(self) -> list[int]:
        return [row.number for row in self.rows]

    def row(self, number: int) -> tuple[Cell, ...]:
        for row in self.rows:
            if row.number == number:
                return row.cells
        raise AssertionError(f"no row {number} in {self.numbers()}")


def limits(**changes: int) -> ReadLimits:
    """Return the default limits with some of them changed."""
    return dataclasses.replace(DEFAULT_LIMITS, **changes)


def read_file(
    path: Path, work_dir: Path, read_limits: ReadLimits = DEFAULT_LIMITS
) -> ReadResult:
    with open_sheet(path, read_limits, work_dir) as sheet:
        rows = list(sheet.rows)
        return ReadResult(
            sheet.format, sheet.encoding, sheet.separator, sheet.header, rows
        )
