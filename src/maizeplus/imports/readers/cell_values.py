"""The value of a worksheet cell, from its type, style and text.

Both sheet parsers use these conversions: the expat handlers in
``xlsx_reader`` and the regular-expression scanner in ``row_scanner``.
"""

from __future__ import annotations

import re
from datetime import datetime, time

from maizeplus.imports.cells import Cell, DateCell

# Day 0 of Excel's 1900 date system. Serial 60 is the fictitious 1900-02-29, so
# days before 1900-03-01 count one less than the calendar gives.
EXCEL_EPOCH = datetime(1899, 12, 30)
FIRST_SERIAL_AFTER_LEAP_BUG = 61
# A workbook in the 1904 date system counts days from 1904-01-01, 1,462 days later.
DATE1904_OFFSET_DAYS = 1462.0
SECONDS_PER_DAY = 86_400

_INTEGER = re.compile(r"([+-]?)0*([0-9]+)")


class CellValues:
    """The number conversion of one workbook: its date styles and date system."""

    __slots__ = ("_date_style_ids", "_serial_offset")

    def __init__(self, date_styles: tuple[bool, ...], date1904: bool) -> None:
        self._date_style_ids = frozenset(
            str(index) for index, is_date in enumerate(date_styles) if is_date
        )
        self._serial_offset = DATE1904_OFFSET_DAYS if date1904 else 0.0

    def number(self, text: str, style: str | None) -> Cell:
        """Convert the text of a number cell (no ``t``, or ``t="n"``) of style ``s``."""
        if style is not None and style in self._date_style_ids:
            try:
                return DateCell(float(text) + self._serial_offset)
            except ValueError:
                return text
        if text.isascii() and text.isdigit() and text[0] != "0":
            return text
        return _format_number(text)


def place_value(values: list[Cell], column: int, value: Cell) -> None:
    """Put ``value`` in ``column`` of a row, with "" in the columns before it."""
    count = len(values)
    if column >= count:
        values.extend([""] * (column - count))
        values.append(value)
    else:
        values[column] = value


def typed_value(cell_type: str, text: str) -> Cell:
    """Convert the text of a cell of a type other than shared string or number."""
    if cell_type == "inlineStr" or cell_type == "str" or cell_type == "e":
        return text
    if cell_type == "b":
        return _boolean(text)
    if cell_type == "d":
        return _iso_date(text)
    return text


def _format_number(text: str) -> str:
    """Format an Excel number: integral ones without ``.0``, others shortest."""
    integer = _INTEGER.fullmatch(text)
    if integer:
        # Rewritten without int(), which refuses strings of over 4,300 digits.
        sign, digits = integer.groups()
        return digits if sign != "-" or digits == "0" else f"-{digits}"
    try:
        number = float(text)
    except ValueError:
        return text
    if number.is_integer():
        return str(int(number))
    return repr(number)


def _boolean(text: str) -> str:
    value = text.strip().lower()
    if not value:
        return ""
    return "true" if value in ("1", "true") else "false"


def _iso_date(text: str) -> Cell:
    """Turn an ISO 8601 date or time (a ``t="d"`` cell) into its Excel serial."""
    value = text.strip()
    try:
        if "-" in value:
            moment = datetime.fromisoformat(value).replace(tzinfo=None)
        else:
            moment = datetime.combine(EXCEL_EPOCH, time.fromisoformat(value))
    except ValueError:
        # An unparsable date stays text, so the rules report its value.
        return text
    delta = moment - EXCEL_EPOCH
    serial = delta.days + (delta.seconds + delta.microseconds / 1e6) / SECONDS_PER_DAY
    if 1 <= serial < FIRST_SERIAL_AFTER_LEAP_BUG:
        serial -= 1
    return DateCell(serial)
