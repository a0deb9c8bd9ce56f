"""Neutralising cells that a spreadsheet would run as formulas, for every CSV we write.

Excel, LibreOffice and Google Sheets treat a cell that starts with ``=``,
``+``, ``-`` or ``@`` as a formula, and a leading tab or carriage return can
hide such a character from a filter. A formula can start programs (DDE) or
send the sheet's data to a server. Following OWASP's guidance on CSV
injection (https://owasp.org/www-community/attacks/CSV_Injection), such a
cell gets a leading single quote, so the spreadsheet reads it as text. The
csv module quotes the cell when it needs quotes.

This applies to CSV files only. JSON keeps every value verbatim: the
service stores and returns names such as ``=HYPERLINK(...)`` byte for byte.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import IO, Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# A plain number such as -12 or +3.5 cannot run as a formula, and a quote
# would turn it into text, so it is left alone.
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


def is_formula(value: str) -> bool:
    """Tell whether a spreadsheet would run ``value`` as a formula."""
    return value.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(value)


def neutralise_formula(value: str) -> str:
    """Return ``value`` with a leading ``'`` if a spreadsheet would run it as a formula."""
    return "'" + value if is_formula(value) else value


def neutralise_row(cells: Iterable[Any]) -> list[Any]:
    """Neutralise every string of a row; numbers, booleans and None stay as they are."""
    return [
        neutralise_formula(cell) if isinstance(cell, str) else cell for cell in cells
    ]


class SafeCsvWriter:
    """A ``csv.writer`` that neutralises each string cell before writing it."""

    def __init__(self, file: IO[str], **format_parameters: Any) -> None:
        self._writer = csv.writer(file, **format_parameters)

    def writerow(self, cells: Iterable[Any]) -> Any:
        return self._writer.writerow(neutralise_row(cells))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
