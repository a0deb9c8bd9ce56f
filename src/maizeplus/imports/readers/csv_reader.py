"""A streaming CSV reader that numbers each record by the physical line where it starts.

Encoding: a byte-order mark selects UTF-8 or UTF-16 (LE or BE). Without one,
a first pass over the whole file checks that it is valid UTF-8. If any byte
sequence is invalid, the whole file is read as Windows-1252. So the choice
holds for the whole file and is made before any row is yielded. The cost is a
second reading: the check took 0.2 s of CPU for a 71 MB file of
bench/readers.py on a 2-vCPU AMD EPYC. A file that declares an encoding by its
mark but does not follow it is unreadable.

Separator: ``;``, unless the header line contains no ``;`` but splits on ``,``
or tab into at least two known column names.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, TextIO

from maizeplus.imports.cells import SheetRow
from maizeplus.imports.columns import Column
from maizeplus.imports.errors import FileUnreadable, LimitExceeded
from maizeplus.imports.readers.limits import ReadLimits, limit_text

KNOWN_COLUMNS = frozenset(column.value for column in Column)
DEFAULT_SEPARATOR = ";"
OTHER_SEPARATORS = (",", "\t")
# A header must split into at least this many known names to pick another separator.
MIN_KNOWN_COLUMNS_FOR_SEPARATOR = 2

READ_BUFFER_BYTES = 64 * 1024
VALIDATION_CHUNK_BYTES = 1024 * 1024
# Bytes that Windows-1252 leaves undefined (Python's cp1252 codec rejects them).
_UNDEFINED_CP1252_BYTES = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")

# Fed to the csv module after the last line. If a quoted cell is still open at
# the end of the file, the mark ends up inside that cell, and the reader
# reports the unclosed quote. Otherwise the mark is a record of its own.
END_OF_FILE_MARK = "\x00maizeplus:end-of-file\x00"
FIELD_LIMIT_MESSAGE = "field larger than field limit"


@dataclass(frozen=True, slots=True)
class TextEncoding:
    """An encoding of CSV text: its reported name, its codec, its byte-order mark."""

    name: str
    codec: str
    byte_order_mark: bytes = b""

    @property
    def is_ascii_compatible(self) -> bool:
        """Whether CR and LF are the bytes 13 and 10, so lines can be split as bytes."""
        return not self.codec.startswith("utf-16")


UTF8 = TextEncoding("utf-8", "utf-8")
UTF8_WITH_BOM = TextEncoding("utf-8-sig", "utf-8", codecs.BOM_UTF8)
UTF16_LE = TextEncoding("utf-16-le", "utf-16-le", codecs.BOM_UTF16_LE)
UTF16_BE = TextEncoding("utf-16-be", "utf-16-be", codecs.BOM_UTF16_BE)
WINDOWS_1252 = TextEncoding("cp1252", "cp1252")


def choose_encoding(file: BinaryIO) -> TextEncoding:
    """Choose the encoding of a whole file by its byte-order mark and a full decode."""
    file.seek(0)
    head = file.read(len(codecs.BOM_UTF8))
    declared = UTF8
    for candidate in (UTF8_WITH_BOM, UTF16_LE, UTF16_BE):
        if head.startswith(candidate.byte_order_mark):
            declared = candidate
            break

    error_offset = find_decode_error(file, declared)
    if error_offset is None:
        return declared
    if declared is not UTF8:
        raise FileUnreadable(
            f"The file starts with a {declared.name} byte-order mark, but the bytes at "
            f"offset {error_offset:,} are not valid {declared.name}. "
            "Save the file again as 'CSV UTF-8'."
        )

    if contains_utf8_sequence(file):
        # Text that is UTF-8 almost everywhere is a damaged UTF-8 file: read as
        # Windows-1252, every accented letter of it would turn into "Ã©".
        raise FileUnreadable(
            f"The file is UTF-8, but the bytes at offset {error_offset:,} are not "
            "valid UTF-8. Correct that character, or save the file again as 'CSV UTF-8'."
        )
    undefined_offset = find_undefined_cp1252_byte(file)
    if undefined_offset is not None:
        raise FileUnreadable(
            f"The file is neither UTF-8 (invalid bytes at offset {error_offset:,}) nor "
            f"Windows-1252 (undefined byte at offset {undefined_offset:,}). "
            "Save the file again as 'CSV UTF-8'."
        )
    return WINDOWS_1252


# A well-formed UTF-8 sequence of two to four bytes (RFC 3629, section 4).
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]"
    rb"|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]"
    rb"|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)


def contains_utf8_sequence(file: BinaryIO) -> bool:
    """Tell whether the file contains at least one well-formed multi-byte UTF-8 character.

    NOTE: a sequence split across two read chunks is not seen. One whole
    sequence anywhere in the file is enough.
    """
    file.seek(0)
    while chunk := file.read(VALIDATION_CHUNK_BYTES):
        if _UTF8_SEQUENCE.search(chunk):
            return True
    return False


def find_decode_error(file: BinaryIO, encoding: TextEncoding) -> int | None:
    """Return the offset of the first byte that ``encoding`` cannot decode, or None."""
    position = len(encoding.byte_order_mark)
    file.seek(position)
    decoder = codecs.getincrementaldecoder(encoding.codec)("strict")
    while True:
        chunk = file.read(VALIDATION_CHUNK_BYTES)
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as error:
            return position - pending + error.start
        if not chunk:
            return None
        position += len(chunk)


def find_undefined_cp1252_byte(file: BinaryIO) -> int | None:
    """Return the offset of the first byte undefined in Windows-1252, or None."""
    file.seek(0)
    position = 0
    while chunk := file.read(VALIDATION_CHUNK_BYTES):
        match = _UNDEFINED_CP1252_BYTES.search(chunk)
        if match:
            return position + match.start()
        position += len(chunk)
    return None


def find_long_line(
    file: BinaryIO, encoding: TextEncoding, max_chars: int
) -> int | None:
    """Return the number of the first line longer than ``max_chars`` characters, or None.

    For an ASCII-compatible encoding only; the file must decode. Lines end at
    CR, LF or CRLF, as for the csv module. A line is decoded only when its
    bytes are more than ``max_chars``, because a character is at least one byte.
    """
    file.seek(len(encoding.byte_order_mark))
    line_number = 0
    carried = b""
    while chunk := file.read(VALIDATION_CHUNK_BYTES):
        lines = (carried + chunk).splitlines(keepends=True)
        # The last piece may go on in the next chunk, and a CR at the end of
        # a chunk may be the first half of a CRLF.
        carried = lines.pop()
        if carried.endswith(b"\n") and not carried.endswith(b"\r\n"):
            lines.append(carried)
            carried = b""
        long_line = _first_long_line(lines, encoding, max_chars)
        if long_line is not None:
            return line_number + long_line
        line_number += len(lines)
        if len(carried) > max_chars + 2 and _is_long(carried, encoding, max_chars):
            return line_number + 1
    if carried and _is_long(carried, encoding, max_chars):
        return line_number + 1
    return None


def _first_long_line(
    lines: list[bytes], encoding: TextEncoding, max_chars: int
) -> int | None:
    # Two bytes more than the limit leave room for a CRLF ending.
    if not lines or max(map(len, lines)) <= max_chars + 2:
        return None
    for index, line in enumerate(lines):
        if len(line) > max_chars + 2 and _is_long(line, encoding, max_chars):
            return index + 1
    return None


def _is_long(line: bytes, encoding: TextEncoding, max_chars: int) -> bool:
    text = line.rstrip(b"\r\n")
    return len(text) > max_chars and (
        len(text.decode(encoding.codec, errors="replace")) > max_chars
    )


def line_too_long(line_number: int, max_line_chars: int) -> LimitExceeded:
    cell_limit = limit_text("import_max_cell_chars", max_line_chars // 4)
    return LimitExceeded(
        f"Line {line_number} has more than {max_line_chars:,} "
        f"characters, four times {cell_limit}."
    )


def choose_separator(header_line: str) -> str:
    """Choose the separator from the first line of the file."""
    if DEFAULT_SEPARATOR in header_line:
        return DEFAULT_SEPARATOR
    chosen, chosen_known = DEFAULT_SEPARATOR, MIN_KNOWN_COLUMNS_FOR_SEPARATOR - 1
    for separator in OTHER_SEPARATORS:
        names = next(csv.reader([header_line], delimiter=separator), [])
        known = sum(1 for name in names if name.strip().casefold() in KNOWN_COLUMNS)
        if known > chosen_known:
            chosen, chosen_known = separator, known
    return chosen


class PhysicalLines:
    """The lines of a text stream, each ended by CR, LF or CRLF, counted as read.

    Iterating yields every line, then ``END_OF_FILE_MARK``; ``count`` is the
    number of lines yielded so far.
    """

    def __init__(self, stream: TextIO, max_line_chars: int) -> None:
        self.count = 0
        self._stream = stream
        self._max_line_chars = max_line_chars
        self._first_line: str | None = None

    def first_line(self) -> str:
        """Read line 1 ahead of the iteration ('' for an empty file)."""
        if self._first_line is None:
            self._first_line = self._read_line()
        return self._first_line

    def __iter__(self) -> Iterator[str]:
        line = self.first_line()
        while line:
            self.count += 1
            yield line
            line = self._read_line()
        yield END_OF_FILE_MARK

    def _read_line(self) -> str:
        # Two characters more than the limit leave room for a CRLF ending.
        try:
            line = self._stream.readline(self._max_line_chars + 2)
        except UnicodeDecodeError as error:
            raise FileUnreadable(
                f"Line {self.count + 1} cannot be decoded ({error.reason}). "
                "Save the file again as 'CSV UTF-8'."
            ) from None
        if len(line) > self._max_line_chars:
            self._check_length(line)
        return line

    def _check_length(self, line: str) -> None:
        if len(line.rstrip("\r\n")) > self._max_line_chars:
            raise line_too_long(self.count + 1, self._max_line_chars)

    def fast_lines(self) -> Iterable[str]:
        """Yield the same lines without counting them, at the speed of the text stream.

        Only for a stream whose line lengths were checked already
        (``find_long_line``); the csv module's ``line_num`` counts the lines.
        """
        first = self.first_line()
        if not first:
            return (END_OF_FILE_MARK,)
        return itertools.chain((first,), self._stream, (END_OF_FILE_MARK,))


class CsvReader:
    """The records of a CSV file, with the encoding and separator chosen for it."""

    def __init__(self, path: Path, limits: ReadLimits) -> None:
        self._limits = limits
        _raise_field_size_limit(limits.max_cell_chars)
        self._binary: BinaryIO = path.open("rb", buffering=READ_BUFFER_BYTES)
        try:
            self._encoding = choose_encoding(self._binary)
            if self._encoding.is_ascii_compatible:
                long_line = find_long_line(
                    self._binary, self._encoding, limits.max_line_chars
                )
                if long_line is not None:
                    raise line_too_long(long_line, limits.max_line_chars)
            self._binary.seek(len(self._encoding.byte_order_mark))
            self._text = io.TextIOWrapper(
                self._binary, encoding=self._encoding.codec, errors="strict", newline=""
            )
            self._lines = PhysicalLines(self._text, limits.max_line_chars)
            self._separator = choose_separator(self._lines.first_line())
        except BaseException:
            self._binary.close()
            raise

    def __enter__(self) -> CsvReader:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def encoding(self) -> str:
        """Name of the encoding: utf-8, utf-8-sig, utf-16-le, utf-16-be or cp1252."""
        return self._encoding.name

    @property
    def separator(self) -> str:
        return self._separator

    def close(self) -> None:
        self._text.close()

    def records(self) -> Generator[SheetRow, None, None]:
        """Yield every record, blank ones too, numbered by the line where it starts."""
        lines = (
            self._lines.fast_lines()
            if self._encoding.is_ascii_compatible
            else iter(self._lines)
        )
        reader = csv.reader(
            lines, delimiter=self._separator, quotechar='"', doublequote=True
        )
        start_line = 1
        max_columns = self._limits.max_columns
        max_cell_chars = self._limits.max_cell_chars
        try:
            for fields in reader:
                if fields[-1:] and fields[-1].endswith(END_OF_FILE_MARK):
                    self._check_end_of_file(fields, start_line)
                    return
                # The common record has no trailing empty cell and fits the
                # limits; _cells trims and checks the others.
                if (
                    fields[-1:] != [""]
                    and len(fields) <= max_columns
                    and (not fields or max(map(len, fields)) <= max_cell_chars)
                ):
                    # tuple.__new__ builds the row without a call to the
                    # NamedTuple's __new__, which is a Python function.
                    yield tuple.__new__(SheetRow, (start_line, tuple(fields)))
                else:
                    yield SheetRow(start_line, self._cells(fields, start_line))
                start_line = reader.line_num + 1
        except csv.Error as error:
            raise self._parse_error(error, start_line, reader.line_num) from None
        except UnicodeDecodeError as error:
            raise FileUnreadable(
                f"Line {reader.line_num + 1} cannot be decoded ({error.reason}). "
                "Save the file again as 'CSV UTF-8'."
            ) from None

    def _check_end_of_file(self, fields: list[str], start_line: int) -> None:
        if fields != [END_OF_FILE_MARK]:
            raise FileUnreadable(
                f'The record that starts on line {start_line} opens a quote (") '
                "that is never closed, so the rest of the file would become one cell. "
                "Close or remove that quote."
            )

    def _cells(self, fields: list[str], line: int) -> tuple[str, ...]:
        end = len(fields)
        while end and not fields[end - 1]:
            end -= 1
        if end > self._limits.max_columns:
            raise LimitExceeded(
                f"The record on line {line} has {end:,} columns, more than "
                f"{limit_text('import_max_columns', self._limits.max_columns)}."
            )
        if end and max(map(len, fields)) > self._limits.max_cell_chars:
            raise self._cell_too_long(line)
        return tuple(fields[:end])

    def _cell_too_long(self, line: int) -> LimitExceeded:
        return LimitExceeded(
            f"A cell of the record that starts on line {line} has more characters than "
            f"{limit_text('import_max_cell_chars', self._limits.max_cell_chars)}. "
            'If a quote (") opens a cell there and is never closed, close it.'
        )

    def _parse_error(
        self, error: csv.Error, start_line: int, line_count: int
    ) -> FileUnreadable:
        if str(error).startswith(FIELD_LIMIT_MESSAGE):
            return self._cell_too_long(start_line)
        return FileUnreadable(
            f"The CSV file cannot be read at line {line_count}: {error}."
        )


def _raise_field_size_limit(max_cell_chars: int) -> None:
    # NOTE: csv.field_size_limit is process-wide. It is only ever raised here,
    # and CsvReader also checks each cell against its own limit.
    if csv.field_size_limit() < max_cell_chars:
        csv.field_size_limit(max_cell_chars)
