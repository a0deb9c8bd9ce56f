"""The rows of cells that a reader yields, each with its place in the file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


@dataclass(frozen=True, slots=True)
class DateCell:
    """A spreadsheet cell holding a date or time, as an Excel serial day number.

    Excel turns values such as ``3-12`` into dates silently; the rules report
    such a cell instead of storing the serial number or a formatted date.
    """

    serial: float


# A cell as the rules see it: the text of the cell (untrimmed; booleans as
# "true"/"false", integral numbers without a decimal point), or a date.
Cell = str | DateCell


class SheetRow(NamedTuple):
    """One record of the file, a tuple because a million of them are built per pass.

    ``number`` is where the record starts, the header being 1: the physical
    line for CSV (blank lines and the extra lines of quoted multi-line fields
    count), the worksheet row number for XLSX.
    """

    number: int
    cells: tuple[Cell, ...]
