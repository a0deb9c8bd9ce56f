"""A streaming reader of the first worksheet of an XLSX file, built on expat.

The sheet XML is decompressed and parsed in 64 KiB chunks. The rows that a
chunk completes are yielded before the next chunk is read, so memory keeps one
chunk of rows at a time. Formulas are never evaluated: a formula cell gives
its cached value ``<v>``.

By default the rows of ``<sheetData>`` in the usual forms are read by
``RowScanner``, several times faster than expat's callbacks, and everything
else by expat and ``SheetHandler`` (see ``fast_xml``). Both give the same rows.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from maizeplus.imports.cells import Cell, SheetRow
from maizeplus.imports.errors import FileUnreadable, LimitExceeded
from maizeplus.imports.readers import safe_xml
from maizeplus.imports.readers.archive import Archive
from maizeplus.imports.readers.cell_values import (
    CellValues,
    place_value,
    typed_value,
)
from maizeplus.imports.readers.fast_xml import PartParser
from maizeplus.imports.readers.limits import ReadLimits, limit_text
from maizeplus.imports.readers.row_scanner import RowScanner
from maizeplus.imports.readers.shared_strings import (
    SPREADSHEET_NAMESPACES,
    SharedStrings,
    read_shared_strings,
)
from maizeplus.imports.readers.styles import read_date_styles
from maizeplus.imports.readers.workbook import read_workbook_parts

DIGITS = "0123456789"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
MAX_COLUMN_LETTERS = 3  # XFD, column 16,384, is the last column of Excel

# Excel's row numbers go up to 1,048,576. This leaves room, and keeps int()
# from parsing an arbitrarily long digit string.
MAX_ROW_NUMBER_DIGITS = 9

# The start tag of <sheetData>, with the root's prefix as group 1.
SHEET_DATA_START = re.compile(rb"<(?:([A-Za-z_][\w.-]{0,63}):)?sheetData>")


class XlsxReader:
    """The first worksheet of an XLSX file whose ZIP container is within the limits."""

    def __init__(
        self, path: Path, limits: ReadLimits, work_dir: Path, *, fast_path: bool = True
    ) -> None:
        """Open the workbook and read its shared strings and styles.

        With ``fast_path`` False, expat's handlers read every element, as before
        the scanners existed; the tests compare the two ways.
        """
        self._limits = limits
        self._fast_path = fast_path
        self._file: BinaryIO = path.open("rb")
        self._strings: SharedStrings | None = None
        try:
            self._archive = Archive(self._file, limits)
            self._parts = read_workbook_parts(self._archive)
            self._strings = self._load_shared_strings(work_dir)
            self._cell_values = CellValues(
                self._load_date_styles(), self._parts.date1904
            )
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> XlsxReader:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._strings is not None:
            self._strings.close()
        if hasattr(self, "_archive"):
            self._archive.close()
        self._file.close()

    def _load_shared_strings(self, work_dir: Path) -> SharedStrings:
        info = self._parts.shared_strings
        table = SharedStrings(work_dir, info.file_size if info else 0)
        if info is None:
            table.freeze()
            return table
        try:
            read_shared_strings(
                info.filename,
                self._archive.chunks(info),
                table,
                self._limits,
                fast_path=self._fast_path,
            )
        except BaseException:
            table.close()
            raise
        return table

    def _load_date_styles(self) -> tuple[bool, ...]:
        info = self._parts.styles
        if info is None:
            return ()
        return read_date_styles(info.filename, self._archive.chunks(info))

    def records(self) -> Generator[SheetRow, None, None]:
        """Yield each row of the first worksheet that has a non-empty cell, in order."""
        if self._fast_path:
            return self._scanned_records()
        return self._expat_records()

    def _scanned_records(self) -> Generator[SheetRow, None, None]:
        assert self._strings is not None
        info = self._parts.worksheet
        strings, cell_values, limits = self._strings, self._cell_values, self._limits
        handler = SheetHandler(info.filename, strings, cell_values, limits)
        ready = handler.ready

        def make_scanner(prefix: str) -> RowScanner:
            return RowScanner(prefix, handler, strings, cell_values, limits, ready)

        parser = PartParser(
            info.filename,
            handler,
            SHEET_DATA_START,
            container_name="sheetData",
            container_depth=2,
            item_name="row",
            make_scanner=make_scanner,
        )
        for chunk in self._archive.chunks(info):
            parser.feed(chunk)
            if ready:
                yield from ready
                ready.clear()
        parser.close()
        yield from ready

    def _expat_records(self) -> Generator[SheetRow, None, None]:
        assert self._strings is not None
        info = self._parts.worksheet
        handler = SheetHandler(
            info.filename, self._strings, self._cell_values, self._limits
        )
        parser = safe_xml.create_parser(info.filename, namespaces=False)

        def start_root(name: str, attributes: dict[str, str]) -> None:
            handler.start_root(name, attributes)
            parser.StartElementHandler = handler.start_element

        parser.StartElementHandler = start_root
        parser.EndElementHandler = handler.end_element
        parser.CharacterDataHandler = handler.character_data

        for chunk in self._archive.chunks(info):
            safe_xml.feed(parser, info.filename, chunk, final=False)
            if handler.ready:
                ready, handler.ready = handler.ready, []
                yield from ready
        safe_xml.feed(parser, info.filename, b"", final=True)
        yield from handler.ready


class SheetHandler:
    """Expat handlers that turn ``<row>`` and ``<c>`` elements into ``SheetRow`` values.

    Cells that end up empty are not stored; a row gets ``""`` in the gaps before
    its last non-empty cell. Rows without any non-empty cell are dropped.
    """

    # start_element, end_element, character_data and _finish_cell run for every
    # element or cell of the sheet. So they test the most frequent names first
    # and keep the usual path inline, because a Python call costs several times
    # what expat spends on parsing the element itself.
    __slots__ = (
        "_cell_attributes",
        "_cell_tag",
        "_cell_values",
        "_collecting",
        "_column",
        "_columns_by_letters",
        "_in_cell",
        "_in_phonetic",
        "_max_cell_chars",
        "_max_columns",
        "_part_name",
        "_phonetic_tag",
        "_row_number",
        "_row_tag",
        "_string_at",
        "_text",
        "_text_tag",
        "_value_tag",
        "_values",
        "prefix",
        "ready",
    )

    def __init__(
        self,
        part_name: str,
        strings: SharedStrings,
        cell_values: CellValues,
        limits: ReadLimits,
    ) -> None:
        self.ready: list[SheetRow] = []
        self.prefix = ""
        self._part_name = part_name
        self._string_at = strings.__getitem__
        self._cell_values = cell_values
        self._max_columns = limits.max_columns
        self._max_cell_chars = limits.max_cell_chars
        self._columns_by_letters: dict[str, int] = {}
        self._row_tag = self._cell_tag = self._value_tag = ""
        self._text_tag = self._phonetic_tag = ""

        self._row_number = 0
        self._values: list[Cell] = []
        self._column = -1
        self._cell_attributes: dict[str, str] = {}
        self._text = ""
        self._in_cell = False
        self._collecting = False
        self._in_phonetic = False

    def start_root(self, name: str, attributes: dict[str, str]) -> None:
        prefix = safe_xml.root_prefix(
            name, attributes, "worksheet", SPREADSHEET_NAMESPACES
        )
        if prefix is None:
            raise FileUnreadable(
                f"The first sheet of the workbook ({self._part_name}) is not a "
                "worksheet. Move the staff list to the first sheet and save the file."
            )
        self.prefix = prefix
        self._row_tag = f"{prefix}row"
        self._cell_tag = f"{prefix}c"
        self._value_tag = f"{prefix}v"
        self._text_tag = f"{prefix}t"
        self._phonetic_tag = f"{prefix}rPh"

    def start_element(self, name: str, attributes: dict[str, str]) -> None:
        if name == self._cell_tag:
            self._cell_attributes = attributes
            self._text = ""
            self._in_cell = True
        elif name == self._value_tag or name == self._text_tag:
            self._collecting = self._in_cell and not self._in_phonetic
        elif name == self._row_tag:
            self._start_row(attributes.get("r"))
        elif name == self._phonetic_tag:
            self._in_phonetic = True

    def end_element(self, name: str) -> None:
        if name == self._value_tag or name == self._text_tag:
            self._collecting = False
        elif name == self._cell_tag:
            self._finish_cell()
        elif name == self._row_tag:
            self._finish_row()
        elif name == self._phonetic_tag:
            self._in_phonetic = False

    def character_data(self, data: str) -> None:
        if self._collecting:
            text = self._text + data
            if len(text) > self._max_cell_chars:
                self._raise_cell_too_long()
            self._text = text

    def continue_after_row(self, number: int, last_column: int) -> None:
        """Continue after a row that ``RowScanner`` read instead of these handlers."""
        self._row_number = number
        self._column = last_column
        self._values = []

    def _start_row(self, reference: str | None) -> None:
        if reference is None:
            self._row_number += 1
        elif (
            reference.isascii()
            and reference.isdigit()
            and len(reference) <= MAX_ROW_NUMBER_DIGITS
        ):
            self._row_number = int(reference)
        else:
            raise self._unreadable(f"a row has the invalid number {reference!r}")
        self._values = []
        self._column = -1

    def _finish_row(self) -> None:
        if self._values:
            self.ready.append(SheetRow(self._row_number, tuple(self._values)))

    def _finish_cell(self) -> None:
        self._in_cell = False
        attributes = self._cell_attributes
        reference = attributes.get("r")
        if reference is None:
            column = self._column + 1
        else:
            known = self._columns_by_letters.get(reference.rstrip(DIGITS))
            column = self._learn_column(reference) if known is None else known
        self._column = column

        text = self._text
        if not text:
            return
        cell_type = attributes.get("t")
        value: Cell
        if cell_type == "s":
            value = self._shared_string(text)
        elif cell_type is None or cell_type == "n":
            value = self._cell_values.number(text, attributes.get("s"))
        else:
            value = typed_value(cell_type, text)
        if value == "":
            return

        values = self._values
        if column == len(values) and column < self._max_columns:
            values.append(value)
        else:
            self._place(column, value)

    def _place(self, column: int, value: Cell) -> None:
        if column >= self._max_columns:
            raise LimitExceeded(
                f"Row {self._row_number} has a value in column {column + 1:,}, beyond "
                f"{limit_text('import_max_columns', self._max_columns)} columns."
            )
        place_value(self._values, column, value)

    def _learn_column(self, reference: str) -> int:
        letters = reference.rstrip(DIGITS)
        valid = 0 < len(letters) <= MAX_COLUMN_LETTERS and not letters.strip(LETTERS)
        if not valid:
            raise self._unreadable(f"a cell has the invalid reference {reference!r}")
        column = 0
        for letter in letters:
            column = column * 26 + LETTERS.index(letter) + 1
        self._columns_by_letters[letters] = column - 1
        return column - 1

    def _shared_string(self, text: str) -> str:
        try:
            return self._string_at(int(text))
        except (ValueError, IndexError):
            raise self._unreadable(
                f"a cell in row {self._row_number} refers to the missing shared "
                f"string {text!r}"
            ) from None

    def _raise_cell_too_long(self) -> None:
        raise LimitExceeded(
            f"A cell in row {self._row_number} has more characters than "
            f"{limit_text('import_max_cell_chars', self._max_cell_chars)}."
        )

    def _unreadable(self, detail: str) -> FileUnreadable:
        return FileUnreadable(
            f"The worksheet {self._part_name} is damaged: {detail}. "
            "Open the file in Excel and save it again."
        )
