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
  ``t`` in that order, each followed by one of: ``/>`` (with or without a space
  before it), ``></c>``, a formula ``<f ...>...</f>`` or ``<f .../>`` and then
  an optional ``<v>...</v>`` or ``<v/>``, or an inline string
  ``<is><t>...</t></is>`` whose ``<t>`` may have ``xml:space``;
* in texts, any character that XML allows but a carriage return, the five
  predefined entities and numeric character references.

Rows without ``r``, cells without ``r``, other attributes or their order, rich
text, whitespace between elements, comments, CDATA and anything unexpected
fall back to expat, and so does every row that would raise an error, so that
expat raises it with the usual message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from maizeplus.imports.cells import Cell, SheetRow
from maizeplus.imports.readers.cell_values import (
    CellValues,
    place_value,
    typed_value,
)
from maizeplus.imports.readers.fast_xml import ExpatFeed
from maizeplus.imports.readers.limits import ReadLimits
from maizeplus.imports.readers.shared_strings import SharedStrings
from maizeplus.imports.readers.xml_text import (
    ATTRIBUTE,
    ATTRIBUTE_VALUE,
    TextUnrecognised,
    decode_text,
    has_unique_names,
)

LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Entries of each cache before it is emptied: a few megabytes at most. A row
# typically repeats most values of the rows above (languages, units, flags).
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
    row_start: re.Pattern[bytes]
    cells: re.Pattern[bytes]
    cell_tail: re.Pattern[bytes]


@lru_cache(maxsize=8)
def _patterns(prefix: str) -> _Patterns:
    """Compile the patterns for a worksheet whose elements have ``prefix`` ("" or "x:")."""
    row_start = rb'<{p}row r="([0-9]{1,9})"((?: ATTRIBUTE)*)>'
    # The cell's column letters, then either the index of a shared string in
    # the usual form, or the rest of the cell in a looser form, which the
    # strict ``cell_tail`` checks once per distinct text.
    cells = (
        rb'<{p}c r="([A-Z]{1,3})[0-9]*"'
        rb"(?:"
        rb'(?: s="[0-9]{1,9}")? t="s"><{p}v>([0-9]{1,10})</{p}v></{p}c>'
        rb"|"
        rb"([^>]*/>"
        rb"|[^>]*>"
        rb"(?:<{p}f[^>]*/>|<{p}f[^>]*>[^<]*</{p}f>)?"
        rb"(?:<{p}v>[^<]*</{p}v>|<{p}v ?/>|<{p}is><{p}t[^>]*>[^<]*</{p}t></{p}is>)?"
        rb"</{p}c>)"
        rb")"
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
    return _Patterns(
        _compile(row_start, prefix),
        _compile(cells, prefix),
        _compile(cell_tail, prefix),
    )


def _compile(pattern: bytes, prefix: str) -> re.Pattern[bytes]:
    """Compile a pattern written with the placeholders {p}, ATTRIBUTE and VALUE."""
    pattern = pattern.replace(b"{p}", re.escape(prefix.encode()))
    pattern = pattern.replace(b"ATTRIBUTE", ATTRIBUTE)
    return re.compile(pattern.replace(b"VALUE", ATTRIBUTE_VALUE))


class SheetState(Protocol):
    """What the scanner tells the expat handler of the same sheet."""

    def continue_after_row(self, number: int, last_column: int) -> None:
        """Continue as if expat had just read row ``number``, ending at ``last_column``."""


class RowScanner:
    """Reads the rows of a worksheet's ``<sheetData>`` into ``output``, in order.

    ``handler`` is the expat handler of the same sheet. The scanner keeps it up
    to date before each row that expat reads, so that a row without ``r`` or a
    cell without ``r`` gets the number and column that follow the rows read here.
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
        self._split_cells = patterns.cells.split
        self._match_row_start = patterns.row_start.fullmatch
        self._handler = handler
        self._output = output
        self._max_columns = limits.max_columns

        string_cells = _SharedStringCells(strings)
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
        # the handler has been told about it.
        self._last_number: bytes | None = None
        self._last_letters: list[bytes] = []

    def scan(self, block: bytes, feed: ExpatFeed) -> int:
        """Read the rows of ``block``; see ``ItemScanner.scan``."""
        row_end = self._row_end
        pieces = block.split(row_end)
        pieces.pop()  # the empty bytes after the block's last end tag

        scanned_from = 0  # where the bytes read since the last fallback start
        offset = 0  # the offset of pieces[offset_index] in the block
        offset_index = 0
        for index, piece in enumerate(pieces):
            if self._read_row(piece):
                continue
            offset += sum(map(len, pieces[offset_index:index]))
            offset += len(row_end) * (index - offset_index)
            feed.skip(block[scanned_from:offset])
            self._update_handler()
            end = offset + len(piece) + len(row_end)
            between_rows = feed.feed_item(block[offset:end])
            scanned_from = offset = end
            offset_index = index + 1
            if not between_rows:
                return end
        feed.skip(block[scanned_from:])
        return len(block)

    def _read_row(self, piece: bytes) -> bool:
        """Read one row (its bytes up to ``</row>``); return False to leave it to expat."""
        # parts: the row's start tag, then for each cell its letters, its shared
        # string index or None, the rest of it or None, and the bytes up to the
        # next cell, which must be empty.
        parts = self._split_cells(piece)
        start = self._match_row_start(parts[0])
        if start is None or any(parts[4::4]):
            return False
        number, attributes = start.groups()
        if attributes not in self._known_row_attributes:
            if not has_unique_names(attributes, forbidden=b"r"):
                return False
            self._known_row_attributes.add(attributes)

        letters = parts[1::4]
        try:
            values = self._cell_values(parts[2::4], parts[3::4])
            count = len(letters)
            consecutive = self._consecutive_letters
            if count < len(consecutive) and letters == consecutive[count]:
                while values and values[-1] == "":
                    values.pop()
            else:
                values = self._place(letters, values)
        except CellUnrecognised:
            return False

        self._last_number = number
        self._last_letters = letters
        if values:
            self._output.append(SheetRow(int(number), tuple(values)))
        return True

    def _cell_values(
        self, string_indexes: list[bytes | None], tails: list[bytes | None]
    ) -> list[Cell]:
        """Return the value of each cell, "" for an empty one."""
        if not any(tails):
            values = list(map(self._string_value, string_indexes))
        elif not any(string_indexes):
            values = list(map(self._tail_value, tails))
        else:
            string_value, tail_value = self._string_value, self._tail_value
            values = [
                tail_value(tail) if index is None else string_value(index)
                for index, tail in zip(string_indexes, tails, strict=True)
            ]
        # A cell is either a shared string or has a tail, so no value is None.
        return values  # type: ignore[return-value]

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

    def _update_handler(self) -> None:
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


class _SharedStringCells(dict[bytes | None, str | None]):
    """The shared strings of the latest cells, by the digits of their index.

    ``None`` maps to None, so that cells of other forms look up nothing.
    """

    __slots__ = ("_strings",)

    def __init__(self, strings: SharedStrings) -> None:
        super().__init__({None: None})
        self._strings = strings

    def __missing__(self, digits: bytes | None) -> str:
        assert digits is not None
        try:
            text = self._strings[int(digits)]
        except IndexError:
            raise CellUnrecognised from None
        if len(self) >= CACHE_ENTRIES:
            self.clear()
            self[None] = None
        self[digits] = text
        return text


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
