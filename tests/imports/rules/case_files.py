"""Case files turned into header and data rows, as a reader yields them to the rules.

These loaders stand in for the real readers so that the row rules can be
tested on the case files alone: CSV through the ``csv`` module with ``;``,
XLSX through openpyxl. Like a reader, they number each record by the line
or worksheet row where it starts, skip rows whose cells are all empty or
whitespace, and turn XLSX booleans, integral numbers and dates into cells.
They do not strip a UTF-8 byte-order mark, so the header rules meet it.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
from openpyxl.utils.datetime import to_excel  # type: ignore[import-untyped]

from maizeplus.imports.cells import Cell, DateCell, SheetRow

CASES_DIR = Path(__file__).parents[2] / "data" / "cases"
# C20 contains a 200 000-character cell, above csv's default limit of 131 072.
CSV_FIELD_LIMIT = 1_000_000


@dataclass(frozen=True)
class CaseSheet:
    header: SheetRow
    rows: list[SheetRow]

    def row(self, number: int) -> SheetRow:
        return next(row for row in self.rows if row.number == number)


def load_case(file_name: str) -> CaseSheet:
    path = CASES_DIR / file_name
    rows = _xlsx_rows(path) if path.suffix == ".xlsx" else _csv_rows(path)
    header, *data = rows
    return CaseSheet(header, [row for row in data if not _is_blank(row)])


def _csv_rows(path: Path) -> list[SheetRow]:
    text = path.read_bytes().decode("utf-8")
    previous_limit = csv.field_size_limit(CSV_FIELD_LIMIT)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
        rows: list[SheetRow] = []
        while True:
            start_line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return rows
            rows.append(SheetRow(start_line, tuple(cells)))
    finally:
        csv.field_size_limit(previous_limit)


def _xlsx_rows(path: Path) -> list[SheetRow]:
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        return [
            SheetRow(number, tuple(_xlsx_cell(value) for value in values))
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        ]
    finally:
        workbook.close()


def _xlsx_cell(value: object) -> Cell:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return DateCell(float(to_excel(value)))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _is_blank(row: SheetRow) -> bool:
    return all(isinstance(cell, str) and not cell.strip() for cell in row.cells)
