"""A scanner of worksheet rows in the forms that spreadsheet programs write.

``RowScanner`` reads a block of complete ``<row>`` elements with precompiled
regular expressions: one ``split`` of each row into its cells, then lookups in
two bounded caches, so that the usual cell costs no Python call. A row whose
every part it recognises gives the same ``SheetRow`` as ``SheetHandler``; any
other row goes to expat and ``SheetHandler``, through ``ExpatFeed.feed_item``.

Recognised, with the worksheet's own prefix on every element:

* the row start tag ``<row r="N" a="v" ...>``: ``r`` first, other attributes
  of printable ASCII in double quotes, single spaces, no whitespace after it;
* cells ``<c r="A1" s="N" t="T">`` with ``r`` first, then optionally ``s`` and
  ``t`` in that order. The tag ends with ``/>`` (with or without a space
  before it), or it is followed by ``</c>``, by a formula ``<f ...>...</f>``
  or ``<f .../>`` and an optional ``<v>...</v>`` or ``<v/>`` before ``</c>``,
  or by an inline string ``<is><t>...</t></is></c>`` whose ``<t>`` may have
  ``xml:space``;
* in texts, any character that XML allows but a carriage return, the five
  predefined entities and numeric character references.

Rows without ``r``, cells without ``r``, other attributes or their order, rich
text, whitespace between elements, comments, CDATA and anything unexpected
fall back to expat, and so does every row that would raise an error, so that
expat raises it with the usual message.

NOTE: a sheet with whitespace between its elements (pretty-printed XML) is
read by expat row by row, no faster than before the scanner.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress, count
from typing import Any, Protocol

from maizeplus.imports.cells import Cell, SheetRow
from maizeplus.imports.readers.cell_values import (
    CellValues,
    place_value,
    typed_value,
)
from maizeplus.imports.readers.fast_xml import ExpatFeed
from maizeplus.imports.readers.limits import ReadLimits
from maizeplus.imports.readers.shared_strings import RecentStrings, SharedStrings
from maizeplus.imports.readers.xml_text import (
    ATTRIBUTE,
    ATTRIBUTE_VALUE,
    TextUnrecognised,
    decode_text,
    has_unique_names,
)

LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Entries of each cache before it is emptied: about 16 MB at most, with keys of
# the maximum length. A row typically repeats most values of the rows above
# (languages, units, flags).
CACHE_ENTRIES = 16_384
# Keys longer than this (long inline texts) are not kept, to bound the memory.
MAX_CACHED_KEY_BYTES = 512
# Rows of up to this many cells are checked for the usual columns A, B, C, ...
# in one comparison; longer rows are placed cell by cell.
MAX_CONSECUTIVE_COLUMNS = 256


class CellUnrecognised(Exception):
    """A cell that the scanner leaves to expat, which reads it or raises."""


@dataclass(frozen=True, slots=True)
class _Patterns:
    tokens: re.Pattern[bytes]
    cell_tail: re.Pattern[bytes]


# The groups of ``_Patterns.tokens``, and the stride of its split list: each
# token follows the bytes before it (which must be empty but for the final
# "</row>"), then comes one item per group.
_LETTERS, _STRING_INDEX, _TAIL, _ROW_END, _ROW_NUMBER, _ROW_ATTRIBUTES = range(1, 7)
_STRIDE = 7


@lru_cache(maxsize=8)
def _patterns(prefix: str) -> _Patterns:
    """Compile the patterns for a worksheet whose elements have ``prefix`` ("" or "x:")."""
    # A token is a cell or a row's start tag, with the end tag of the row
    # before it. A cell gives its column letters, then either the index of a
    # shared string in the usual form, or the rest of the cell in a looser
    # form, which the strict ``cell_tail`` checks once per distinct text.
    tokens = (
        rb'<{p}c r="([A-Z]{1,3})[0-9]*"'
        rb"(?:"
        rb'(?: t="s"| s="[0-9]+" t="s")><{p}v>([0-9]+)</{p}v></{p}c>'
        rb"|"
        rb"([^>]*/>"
        rb"|[^>]*>"
        rb"(?:<{p}f[^>]*/>|<{p}f[^>]*>[^<]*</{p}f>)?"
        rb"(?:<{p}v>[^<]*</{p}v>|<{p}v ?/>|<{p}is><{p}t[^>]*>[^<]*</{p}t></{p}is>)?"
        rb"</{p}c>)"
        rb")"
        rb'|(</{p}row>)?<{p}row r="([0-9]{1,9})"((?: ATTRIBUTE)*)>'
    )
    cell_tail = (
        rb'(?: s="(?P<style>[0-9]{1,9})")?(?: t="(?P<type>[A-Za-z]{1,9})")?'
        rb"(?: ?/>|>"
        rb"(?:<{p}f(?P<formula_attributes>(?: ATTRIBUTE)*)"
        rb"(?: ?/>|>(?P<formula>[^<]*)</{p}f>))?"
        rb"(?:<{p}v>(?P<value>[^<]*)</{p}v>|<{p}v ?/>"
        rb"|<{p}is><{p}t(?: xml:space=VALUE)?>(?P<inline>[^<]*)</{p}t></{p}is>)?"
        rb"</{p}c>)"
    )
    return _Patterns(_compile(tokens, prefix), _compile(cell_tail, prefix))


def _compile(pattern: bytes, prefix: str) -> re.Pattern[bytes]:
    """Compile a pattern written with the placeholders {p}, ATTRIBUTE and VALUE."""
    pattern = pattern.replace(b"{p}", re.escape(prefix.encode()))
    pattern = pattern.replace(b"ATTRIBUTE", ATTRIBUTE)
    return re.compile(pattern.replace(b"VALUE", ATTRIBUTE_VALUE))


class SheetState(Protocol):
    """The state of the sheet's expat handler that the scanner updates."""

    def continue_after_row(self, number: int, last_column: int) -> None:
        """Continue as if expat had just read row ``number``, ending at ``last_column``."""


class RowScanner:
    """Reads the rows of a worksheet's ``<sheetData>`` into ``output``, in order.

    ``handler`` is the expat handler of the same sheet. The scanner updates it
    before each row that expat reads, so that a row without ``r`` or a cell
    without ``r`` gets the number and column that follow the rows read here.
    """

    def __init__(
        self,
        prefix: str,
        handler: SheetState,
        strings: SharedStrings,
        cell_values: CellValues,
        limits: ReadLimits,
        output: list[SheetRow],
    ) -> None:
        patterns = _patterns(prefix)
        self._row_end = f"</{prefix}row>".encode()
        self._split_tokens = patterns.tokens.split
        self._handler = handler
        self._output = output
        self._max_columns = limits.max_columns

        string_cells = RecentStrings(strings, CACHE_ENTRIES)
        tail_cells = _TailCells(
            _CellTailParser(patterns.cell_tail, strings, cell_values, limits)
        )
        self._string_value: Callable[[bytes | None], Cell | None] = (
            string_cells.__getitem__
        )
        self._tail_value: Callable[[bytes | None], Cell | None] = tail_cells.__getitem__

        consecutive = min(limits.max_columns, MAX_CONSECUTIVE_COLUMNS)
        self._consecutive_letters = _consecutive_letters(consecutive)
        self._columns_by_letters: dict[bytes, int] = {}
        self._known_row_attributes: set[bytes] = {b""}
        # The number and cell letters of the last row read here, or None once
        # the handler has them.
        self._last_number: bytes | None = None
        self._last_letters: list[bytes] = []

    def scan(self, block: bytes, feed: ExpatFeed) -> int:
        """Read the rows of ``block``; see ``ItemScanner.scan``."""
        if self._read_rows(block):
            feed.skip(block)
            return len(block)

        # Something in the block is unusual: read it row by row, and give
        # expat each row that the scanner cannot read.
        row_end = self._row_end
        scanned_from = 0  # where the bytes read since expat's last row start
        start = 0
        for piece in block.split(row_end)[:-1]:
            end = start + len(piece) + len(row_end)
            row = block[start:end]
            if not self._read_rows(row):
                feed.skip(block[scanned_from:start])
                self.before_expat()
                if not feed.feed_item(row):
                    return end
                scanned_from = end
            start = end
        feed.skip(block[scanned_from:])
        return len(block)

    def _read_rows(self, rows: bytes) -> bool:
        """Read complete rows if every part of them is in a usual form.

        Return False, having read none of them, when any part is not.
        """
        parts = self._split_tokens(rows)
        others = parts[0::_STRIDE]
        if others[-1] != self._row_end or any(others[:-1]):
            return False
        numbers = parts[_ROW_NUMBER::_STRIDE]
        starts = list(compress(count(), numbers))
        if not starts or starts[0] != 0:
            return False
        letters = parts[_LETTERS::_STRIDE]
        try:
            values = self._cell_values(
                parts[_STRING_INDEX::_STRIDE], parts[_TAIL::_STRIDE]
            )
            sheet_rows = self._sheet_rows(
                starts,
                numbers,
                parts[_ROW_END::_STRIDE],
                parts[_ROW_ATTRIBUTES::_STRIDE],
                letters,
                values,
            )
        except (CellUnrecognised, IndexError):
            # IndexError: a shared string index beyond the table.
            return False

        last_start = starts[-1]
        self._last_number = numbers[last_start]
        self._last_letters = letters[last_start + 1 :]
        self._output.extend(sheet_rows)
        return True

    def _cell_values(
        self, string_indexes: list[bytes | None], tails: list[bytes | None]
    ) -> list[Any]:
        """Return the value of each token: "" for an empty cell, None for a row."""
        values = list(map(self._string_value, string_indexes))
        if any(tails):
            tail_value = self._tail_value
            for index in compress(count(), tails):
                values[index] = tail_value(tails[index])
        return values

    def _sheet_rows(
        self,
        starts: list[int],
        numbers: list[Any],
        row_ends: list[bytes | None],
        attributes: list[bytes | None],
        letters: list[Any],
        values: list[Any],
    ) -> list[SheetRow]:
        """Build a ``SheetRow`` for each row start and the cells after it.

        The lists have an item per token, None where it does not apply (no
        number for a cell, no value for a row start).

        The first row follows no end tag, and every other row follows the end
        tag of the row before it, else the rows are not well-formed.
        """
        known_attributes = self._known_row_attributes
        consecutive = self._consecutive_letters
        sheet_rows = []
        ends = [*starts[1:], len(numbers)]
        for row_index, (start, end) in enumerate(zip(starts, ends, strict=True)):
            if (row_ends[start] is None) != (row_index == 0):
                raise CellUnrecognised
            row_attributes = attributes[start]
            if row_attributes not in known_attributes:
                self._learn_row_attributes(row_attributes)
            row_letters = letters[start + 1 : end]
            row_values = values[start + 1 : end]
            count = len(row_letters)
            if count < len(consecutive) and row_letters == consecutive[count]:
                while row_values and row_values[-1] == "":
                    row_values.pop()
            else:
                row_values = self._place(row_letters, row_values)
            if row_values:
                sheet_rows.append(SheetRow(int(numbers[start]), tuple(row_values)))
        return sheet_rows

    def _learn_row_attributes(self, attributes: bytes | None) -> None:
        assert attributes is not None
        if not has_unique_names(attributes, forbidden=b"r"):
            raise CellUnrecognised  # expat rejects the repeated attribute
        self._known_row_attributes.add(attributes)

    def _place(self, letters: list[bytes], values: list[Cell]) -> list[Cell]:
        """Place the non-empty values by their column, as ``SheetHandler`` does."""
        row: list[Cell] = []
        for cell_letters, value in zip(letters, values, strict=True):
            if value == "":
                continue
            column = self._column(cell_letters)
            if column >= self._max_columns:
                raise CellUnrecognised  # expat raises the limit's error
            place_value(row, column, value)
        return row

    def _column(self, letters: bytes) -> int:
        column = self._columns_by_letters.get(letters)
        if column is None:
            column = 0
            for letter in letters:
                column = column * 26 + LETTERS.index(letter) + 1
            column -= 1
            self._columns_by_letters[letters] = column
        return column

    def before_expat(self) -> None:
        """Give the handler the number and last column of the last row read here."""
        if self._last_number is None:
            return
        letters = self._last_letters
        last_column = self._column(letters[-1]) if letters else -1
        self._handler.continue_after_row(int(self._last_number), last_column)
        self._last_number = None


def _consecutive_letters(count: int) -> list[list[bytes]]:
    """Return, for each n up to ``count``, the letters of the first n columns."""
    names = [_column_letters(index) for index in range(count)]
    return [names[:n] for n in range(count + 1)]


def _column_letters(index: int) -> bytes:
    letters = b""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = LETTERS[remainder : remainder + 1] + letters
    return letters


class _TailCells(dict[bytes | None, Cell | None]):
    """The values of the latest cells of other forms, by the bytes after ``r``."""

    __slots__ = ("_parse",)

    def __init__(self, parse: Callable[[bytes], Cell]) -> None:
        super().__init__({None: None})
        self._parse = parse

    def __missing__(self, tail: bytes | None) -> Cell:
        assert tail is not None
        value = self._parse(tail)
        if len(tail) <= MAX_CACHED_KEY_BYTES:
            if len(self) >= CACHE_ENTRIES:
                self.clear()
                self[None] = None
            self[tail] = value
        return value


class _CellTailParser:
    """Checks the rest of a cell strictly and converts it as ``SheetHandler`` does."""

    def __init__(
        self,
        pattern: re.Pattern[bytes],
        strings: SharedStrings,
        cell_values: CellValues,
        limits: ReadLimits,
    ) -> None:
        self._match = pattern.fullmatch
        self._strings = strings
        self._cell_values = cell_values
        self._max_cell_chars = limits.max_cell_chars

    def __call__(self, tail: bytes) -> Cell:
        match = self._match(tail)
        if match is None:
            raise CellUnrecognised
        formula_attributes = match["formula_attributes"]
        if formula_attributes and not has_unique_names(formula_attributes):
            raise CellUnrecognised
        try:
            if match["formula"]:
                decode_text(match["formula"])  # checked, not used
            raw_text = match["value"] or match["inline"] or b""
            text = decode_text(raw_text)
        except TextUnrecognised:
            raise CellUnrecognised from None
        if len(text) > self._max_cell_chars:
            raise CellUnrecognised  # expat raises the limit's error
        if not text:
            return ""

        cell_type = match["type"]
        if cell_type == b"s":
            try:
                return self._strings[int(text)]
            except (ValueError, IndexError):
                raise CellUnrecognised from None  # expat raises the error
        style = match["style"]
        if cell_type is None or cell_type == b"n":
            return self._cell_values.number(
                text, None if style is None else style.decode()
            )
        return typed_value(cell_type.decode(), text)
