"""The shared string table of a workbook, kept in a temporary file instead of in memory.

A workbook of a million staff rows can hold several million shared strings,
an estimated 250 MB or more as Python objects. Here each string costs four bytes in
memory (eight for a table above 2 GiB): its end offset in a temporary file of
UTF-8 text, which is memory-mapped for lookups once the table is complete.

Items of one plain ``<t>`` are read by ``SharedStringScanner``, which copies
their UTF-8 bytes to the file as they are. Any other item goes to expat and
``SharedStringsHandler`` (see ``fast_xml``).
"""

from __future__ import annotations

import mmap
import re
import tempfile
from array import array
from collections.abc import Iterable
from itertools import accumulate, compress, count
from pathlib import Path

from maizeplus.imports.errors import FileUnreadable, LimitExceeded
from maizeplus.imports.readers import safe_xml
from maizeplus.imports.readers.fast_xml import ExpatFeed, PartParser
from maizeplus.imports.readers.limits import ReadLimits, limit_text
from maizeplus.imports.readers.xml_text import ATTRIBUTE_VALUE

WRITE_BUFFER_BYTES = 1024 * 1024
# Re-encoded as UTF-8, a string takes at most 1.5 times its bytes in the XML (the
# worst case is UTF-16 XML of CJK text), so two times the part size bounds the file.
_GROWTH_BOUND = 2
_MAX_32BIT_OFFSET = 2**32 - 1

SPREADSHEET_NAMESPACES = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)

# Bytes that the text of a plain item cannot contain: the start of markup, of
# a reference, a carriage return and the control characters XML forbids.
_NOT_IN_PLAIN_TEXT = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)]) + b"<&\r"

# The root's start tag, with its prefix as group 1. Its attributes (namespaces,
# counts) are bounded so that the search holds back a bounded tail.
SST_START = re.compile(rb"<(?:([A-Za-z_][\w.-]{0,63}):)?sst(?:\s[^<>]{0,3500})?>")


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

    def extend_encoded(self, items: list[bytes]) -> None:
        """Append strings given as valid UTF-8."""
        data = b"".join(items)
        self._file.write(data)
        ends = accumulate(map(len, items), initial=self._size)
        next(ends)  # the end of the previous string, already stored
        self._offsets.extend(ends)
        self._size += len(data)

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

    def release_pages(self) -> None:
        """Drop the pages read so far from this process's resident memory.

        Each page of the table counts in the process's RSS once it is read,
        about 40 MB for the strings of a million staff rows. The pages stay in
        the page cache, so reading one again costs a minor page fault.
        """
        if isinstance(self._view, mmap.mmap) and _RELEASE_PAGES is not None:
            self._view.madvise(_RELEASE_PAGES)

    def close(self) -> None:
        if isinstance(self._view, mmap.mmap):
            self._view.close()
        self._file.close()


# Linux and the BSDs: drop a file mapping's pages from the process, not the file.
_RELEASE_PAGES: int | None = getattr(mmap, "MADV_DONTNEED", None)

# No table has 10**10 strings, and int() refuses digit strings over 4,300 long.
MAX_INDEX_DIGITS = 10


class RecentStrings(dict[bytes | None, str | None]):
    """The strings of a frozen table looked up lately, by the digits of their index.

    Most rows repeat values of the rows above (languages, units, flags), and a
    dictionary lookup costs a fraction of a lookup in the file. A key of no
    string raises ``IndexError``; the key None maps to None.
    """

    __slots__ = ("_max_entries", "_offsets", "_table", "_view")

    def __init__(self, table: SharedStrings, max_entries: int) -> None:
        super().__init__({None: None})
        self._table = table
        self._offsets = table._offsets
        self._view = table._view
        self._max_entries = max_entries

    def __missing__(self, digits: bytes | None) -> str:
        assert digits is not None
        if len(digits) > MAX_INDEX_DIGITS:
            raise IndexError(digits)
        index = int(digits)
        offsets = self._offsets
        text = self._view[offsets[index] : offsets[index + 1]].decode("utf-8")
        if len(self) >= self._max_entries:
            self.clear()
            self[None] = None
            self._table.release_pages()
        self[digits] = text
        return text


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
        self.prefix = ""

    def start_root(self, name: str, attributes: dict[str, str]) -> None:
        prefix = safe_xml.root_prefix(name, attributes, "sst", SPREADSHEET_NAMESPACES)
        if prefix is None:
            raise FileUnreadable(
                f"The workbook part {self._part_name} is not a shared string table. "
                "Open the file in Excel and save it again."
            )
        self.prefix = prefix
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


class SharedStringScanner:
    """Reads the items ``<si><t>text</t></si>`` of a block into the table.

    The ``<t>`` may have ``xml:space``. A text with ``&``, a carriage return or
    a control character is left to expat, and so are rich text and phonetic
    runs. The block is checked before any of its strings is appended: invalid
    UTF-8, a noncharacter that expat rejects, ``]]>`` or a string over the
    length limit stop the scanner there, and expat raises the error.
    """

    def __init__(self, prefix: str, table: SharedStrings, limits: ReadLimits) -> None:
        p = re.escape(prefix.encode())
        self._split_items = re.compile(
            rb"<%bsi><%bt((?: xml:space=%b)?)>"
            rb"([^<&\r\x00-\x08\x0b\x0c\x0e-\x1f]*)</%bt></%bsi>"
            % (p, p, ATTRIBUTE_VALUE, p, p)
        ).split
        self._markup_bytes = len(f"<{prefix}si><{prefix}t></{prefix}t></{prefix}si>")
        self._plain_start = f"<{prefix}si><{prefix}t>".encode()
        self._plain_end = f"</{prefix}t></{prefix}si>".encode()
        self._plain_between = self._plain_end + self._plain_start
        self._table = table
        self._max_chars = limits.max_cell_chars

    def scan(self, block: bytes, feed: ExpatFeed) -> int:
        """Read the items of ``block``; see ``ItemScanner.scan``."""
        texts = self._plain_texts(block)
        if texts is not None and self._append(texts):
            feed.skip(block)
            return len(block)
        return self._scan_items(block, feed)

    def before_expat(self) -> None:
        """Do nothing: the expat handler has no state between two items."""

    def _plain_texts(self, block: bytes) -> list[bytes] | None:
        """Return the texts of a block of items ``<si><t>text</t></si>`` only.

        Return None if any item has another form or its text has a character
        that only expat decodes. Splitting at the bytes between two items costs
        a fraction of the pattern's work, and most blocks are of this form.
        """
        start, end = self._plain_start, self._plain_end
        if not (block.startswith(start) and block.endswith(end)):
            return None
        texts = block[len(start) : -len(end)].split(self._plain_between)
        data = b"".join(texts)
        if len(data.translate(None, _NOT_IN_PLAIN_TEXT)) != len(data):
            return None
        return texts

    def _scan_items(self, block: bytes, feed: ExpatFeed) -> int:
        """Read the items in the usual forms, and give expat all others."""
        # parts: the bytes before the first item, then for each item its
        # attribute, its text and the bytes up to the next item.
        parts = self._split_items(block)
        others = parts[0::3]
        attributes = parts[1::3]
        texts = parts[2::3]

        # Item i follows others[i], and others[-1] follows the last item. The
        # items between two non-empty others are appended at once.
        boundaries = list(compress(count(), others))
        if not boundaries or boundaries[-1] != len(texts):
            boundaries.append(len(texts))
        offset = 0
        first = 0  # the first item not yet appended
        for index in boundaries:
            if index > first:
                end = offset + self._bytes_of(attributes, texts, first, index)
                if not self._append(texts[first:index]):
                    return offset
                feed.skip(block[offset:end])
                offset = end
            other = others[index]
            if other:
                offset += len(other)
                if not feed.feed_item(block[offset - len(other) : offset]):
                    return offset
            first = index
        return offset

    def _bytes_of(
        self, attributes: list[bytes], texts: list[bytes], first: int, end: int
    ) -> int:
        """Return the length of items ``first`` to ``end`` (excluded) in the part."""
        markup = self._markup_bytes * (end - first)
        return (
            markup
            + sum(map(len, attributes[first:end]))
            + sum(map(len, texts[first:end]))
        )

    def _append(self, texts: list[bytes]) -> bool:
        """Append the texts to the table if expat would read them the same way."""
        data = b"".join(texts)
        # "]]>" may also span two texts; expat then reads both, which is correct.
        if b"]]>" in data or b"\xef\xbf\xbe" in data or b"\xef\xbf\xbf" in data:
            return False
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return False
        if max(map(len, texts)) > self._max_chars and any(
            len(text.decode("utf-8")) > self._max_chars for text in texts
        ):
            return False
        self._table.extend_encoded(texts)
        return True


def read_shared_strings(
    part_name: str,
    chunks: Iterable[bytes],
    table: SharedStrings,
    limits: ReadLimits,
    *,
    fast_path: bool = True,
) -> None:
    """Parse sharedStrings.xml into ``table`` and freeze it.

    Without ``fast_path``, expat's handlers read every element.
    """
    handler = SharedStringsHandler(table, part_name, limits)
    if fast_path:
        _scan_items(part_name, chunks, handler, table, limits)
    else:
        _parse_items(part_name, chunks, handler)
    table.freeze()


def _scan_items(
    part_name: str,
    chunks: Iterable[bytes],
    handler: SharedStringsHandler,
    table: SharedStrings,
    limits: ReadLimits,
) -> None:
    parser = PartParser(
        part_name,
        handler,
        SST_START,
        container_name="sst",
        container_depth=1,
        item_name="si",
        make_scanner=lambda prefix: SharedStringScanner(prefix, table, limits),
    )
    for chunk in chunks:
        parser.feed(chunk)
    parser.close()


def _parse_items(
    part_name: str, chunks: Iterable[bytes], handler: SharedStringsHandler
) -> None:
    parser = safe_xml.create_parser(part_name, namespaces=False)

    def start_root(name: str, attributes: dict[str, str]) -> None:
        handler.start_root(name, attributes)
        parser.StartElementHandler = handler.start_element

    parser.StartElementHandler = start_root
    parser.EndElementHandler = handler.end_element
    parser.CharacterDataHandler = handler.character_data
    safe_xml.parse_all(parser, part_name, chunks)
