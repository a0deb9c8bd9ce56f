"""The shared string table of a workbook, kept in a temporary file instead of in memory.

A workbook of a million staff rows can hold several million shared strings,
an estimated 250 MB or more as Python objects. Here each string costs four bytes in
memory (eight for a table above 2 GiB): its end offset in a temporary file of
UTF-8 text, which is memory-mapped for lookups once the table is complete.
"""

from __future__ import annotations

import mmap
import tempfile
from array import array
from collections.abc import Iterable
from pathlib import Path

from maizeplus.imports.errors import FileUnreadable, LimitExceeded
from maizeplus.imports.readers import safe_xml
from maizeplus.imports.readers.limits import ReadLimits, limit_text

WRITE_BUFFER_BYTES = 1024 * 1024
# Re-encoded as UTF-8, a string takes at most 1.5 times its bytes in the XML (the
# worst case is UTF-16 XML of CJK text), so two times the part size bounds the file.
_GROWTH_BOUND = 2
_MAX_32BIT_OFFSET = 2**32 - 1

SPREADSHEET_NAMESPACES = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)


class SharedStrings:
    """A table of strings, appended while the part is parsed, then read by index."""

    def __init__(self, work_dir: Path, expected_bytes: int) -> None:
        # On POSIX, TemporaryFile has no name, so nothing is left behind on a crash.
        self._file = tempfile.TemporaryFile(  # noqa: SIM115
            dir=work_dir, buffering=WRITE_BUFFER_BYTES
        )
        typecode = "I" if expected_bytes * _GROWTH_BOUND <= _MAX_32BIT_OFFSET else "Q"
        # String i is bytes offsets[i] to offsets[i + 1] of the file.
        self._offsets = array(typecode, [0])
        self._size = 0
        self._view: mmap.mmap | bytes = b""

    def append(self, text: str) -> None:
        data = text.encode("utf-8")
        self._file.write(data)
        self._size += len(data)
        self._offsets.append(self._size)

    def freeze(self) -> None:
        """End the appending; map the file for lookups."""
        self._file.flush()
        if self._size:
            self._view = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, index: int) -> str:
        """Return string ``index``; raise ``IndexError`` if there is none."""
        if index < 0:
            raise IndexError(index)
        offsets = self._offsets
        return self._view[offsets[index] : offsets[index + 1]].decode("utf-8")

    def close(self) -> None:
        if isinstance(self._view, mmap.mmap):
            self._view.close()
        self._file.close()


class SharedStringsHandler:
    """Expat handlers that append every ``<si>`` of sharedStrings.xml to a table.

    The text of an item is its ``<t>``, or the ``<t>`` of each rich-text run
    ``<r>`` joined; phonetic runs ``<rPh>`` (furigana) are left out.
    """

    def __init__(
        self, table: SharedStrings, part_name: str, limits: ReadLimits
    ) -> None:
        self._table = table
        self._part_name = part_name
        self._max_chars = limits.max_cell_chars
        self._text = ""
        self._collecting = False
        self._in_phonetic = False
        self._item_tag = self._text_tag = self._phonetic_tag = ""

    def start_root(self, name: str, attributes: dict[str, str]) -> None:
        prefix = safe_xml.root_prefix(name, attributes, "sst", SPREADSHEET_NAMESPACES)
        if prefix is None:
            raise FileUnreadable(
                f"The workbook part {self._part_name} is not a shared string table. "
                "Open the file in Excel and save it again."
            )
        self._item_tag = f"{prefix}si"
        self._text_tag = f"{prefix}t"
        self._phonetic_tag = f"{prefix}rPh"

    def start_element(self, name: str, _attributes: dict[str, str]) -> None:
        if name == self._text_tag:
            self._collecting = not self._in_phonetic
        elif name == self._item_tag:
            self._text = ""
        elif name == self._phonetic_tag:
            self._in_phonetic = True

    def end_element(self, name: str) -> None:
        if name == self._text_tag:
            self._collecting = False
        elif name == self._item_tag:
            self._table.append(self._text)
        elif name == self._phonetic_tag:
            self._in_phonetic = False

    def character_data(self, data: str) -> None:
        if not self._collecting:
            return
        text = self._text + data
        if len(text) > self._max_chars:
            raise LimitExceeded(
                f"Shared string {len(self._table):,} of the workbook has more "
                "characters than "
                f"{limit_text('import_max_cell_chars', self._max_chars)}."
            )
        self._text = text


def read_shared_strings(
    part_name: str,
    chunks: Iterable[bytes],
    table: SharedStrings,
    limits: ReadLimits,
) -> None:
    """Parse sharedStrings.xml into ``table`` and freeze it."""
    handler = SharedStringsHandler(table, part_name, limits)
    parser = safe_xml.create_parser(part_name, namespaces=False)

    def start_root(name: str, attributes: dict[str, str]) -> None:
        handler.start_root(name, attributes)
        parser.StartElementHandler = handler.start_element

    parser.StartElementHandler = start_root
    parser.EndElementHandler = handler.end_element
    parser.CharacterDataHandler = handler.character_data
    safe_xml.parse_all(parser, part_name, chunks)
    table.freeze()
