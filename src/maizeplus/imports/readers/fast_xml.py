"""Parsing a large workbook part with expat, except the items a regex scanner reads.

Expat calls a Python handler for every element, and those calls take most of
the time of reading a sheet. Most rows are written by programs in a few fixed
forms, and a scanner of precompiled regular expressions reads those forms
several times faster (the Readers section of bench/RESULTS.md has figures). ``PartParser`` gives the scanner the runs of complete
items (``<row>`` elements of ``<sheetData>``, ``<si>`` items of ``<sst>``)
and feeds everything else to one expat parser with the safe settings of
``safe_xml``: the prolog and root, anything between items that the scanner does
not recognise, and the rest of the part after the container. A DOCTYPE, an
unknown entity or a malformed item is therefore rejected by expat exactly as
when expat reads the whole part.

The bytes that the scanner reads are never fed to expat. Expat's line and
column numbers are mapped back to the whole part, so its error messages name
the same place as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import Enum
from typing import Protocol
from xml.parsers import expat

from maizeplus.imports.readers import safe_xml

# Items not yet complete after this many bytes are parsed by expat, which
# bounds the memory of the pending buffer. A row this large is rare; expat
# reads it more slowly but correctly.
MAX_PENDING_BYTES = 1024 * 1024
# While the container's start tag is searched for, the last bytes are held
# back so that a tag split between two chunks is still found.
CONTAINER_TAG_MAX_BYTES = 4096


class ExpatFeed(Protocol):
    """The interface through which a scanner hands parts of its block to expat."""

    def skip(self, region: bytes) -> None:
        """Record that the scanner read ``region``, which is not fed to expat."""

    def feed_item(self, data: bytes) -> bool:
        """Parse ``data`` with expat; return whether expat is back between items."""


class ItemScanner(Protocol):
    """A reader of the items of one container in their most common forms."""

    def scan(self, block: bytes, feed: ExpatFeed) -> int:
        """Read the complete items at the start of ``block``; return the bytes read.

        ``block`` starts between two items and ends with an item's end tag.
        The scanner calls ``feed.skip`` for the bytes it reads itself and
        ``feed.feed_item`` for items it does not recognise, in the order of
        the part. It stops where ``feed_item`` returns False, or where it meets
        content it cannot hand over item by item. The bytes from the returned
        offset to the end of the block then go to expat.
        """

    def before_expat(self) -> None:
        """Prepare for expat to read what follows the items read last."""


class PartHandler(Protocol):
    """The expat handlers of a part, as ``SheetHandler`` and ``SharedStringsHandler``."""

    prefix: str

    def start_root(self, name: str, attributes: dict[str, str]) -> None: ...

    def start_element(self, name: str, attributes: dict[str, str]) -> None: ...

    def end_element(self, name: str) -> None: ...

    def character_data(self, data: str) -> None: ...


class _Mode(Enum):
    PROLOG = "searching for the container's start tag"
    SCANNER = "the scanner reads each block of complete items"
    EXPAT = "expat reads everything until it is back between items"


class PartParser:
    """Feeds a part's bytes to an ``ItemScanner`` or to expat, in order.

    ``container`` is a pattern of the container's start tag, of which group 1 is
    the prefix, and ``container_name`` its name without prefix. It must have
    ``container_depth`` (1 for the root). The container's items end with
    ``</{prefix}{item_name}>``. ``make_scanner`` is called with the root's
    prefix once the container has started.
    """

    def __init__(
        self,
        part_name: str,
        handler: PartHandler,
        container: re.Pattern[bytes],
        container_name: str,
        container_depth: int,
        item_name: str,
        make_scanner: Callable[[str], ItemScanner],
    ) -> None:
        self._part_name = part_name
        self._handler = handler
        self._container = container
        self._container_name = container_name
        self._container_depth = container_depth
        self._item_name = item_name
        self._make_scanner = make_scanner

        self._parser = safe_xml.create_parser(part_name, namespaces=False)
        self._parser.XmlDeclHandler = self._declaration
        self._parser.StartElementHandler = self._start_element
        self._parser.EndElementHandler = self._end_element
        self._parser.CharacterDataHandler = handler.character_data
        self._parser.StartCdataSectionHandler = self._start_cdata
        self._parser.EndCdataSectionHandler = self._end_cdata

        self._mode = _Mode.PROLOG
        self._scanner: ItemScanner | None = None
        self._item_end = b""
        self._pending = b""
        self._fed_bytes = 0
        self._utf8 = True
        self._depth = 0
        self._container_tag = ""
        self._container_open = False
        self._container_start = -1
        self._in_cdata = False
        self._positions = _PositionMap()

    def feed(self, data: bytes) -> None:
        """Parse the next chunk of the part."""
        self._pending += data
        if self._mode is _Mode.PROLOG:
            self._parse_prolog()
        if self._mode is _Mode.SCANNER:
            self._scan_items()
        if self._mode is _Mode.EXPAT:
            self._parse_until_between_items()

    def close(self) -> None:
        """Parse what is left and end the part; expat raises if it is incomplete."""
        if self._mode is _Mode.SCANNER:
            self._hand_over_to_expat()
        pending, self._pending = self._pending, b""
        self._parse(pending, final=True)

    def skip(self, region: bytes) -> None:
        if region:
            parser = self._parser
            self._positions.skip(
                parser.CurrentLineNumber, parser.CurrentColumnNumber, region
            )

    def feed_item(self, data: bytes) -> bool:
        self._parse(data)
        return self._between_items()

    # Expat's handlers. The depth and the container's state tell when expat is
    # between two items of the container, where the scanner may take over.

    def _declaration(self, _version: str, encoding: str | None, _alone: int) -> None:
        if encoding is not None and encoding.lower() != "utf-8":
            self._utf8 = False

    def _start_element(self, name: str, attributes: dict[str, str]) -> None:
        self._depth += 1
        if self._depth == 1:
            self._handler.start_root(name, attributes)
            self._container_tag = self._handler.prefix + self._container_name
        else:
            self._handler.start_element(name, attributes)
        if self._depth == self._container_depth and name == self._container_tag:
            self._container_open = True
            self._container_start = self._parser.CurrentByteIndex

    def _end_element(self, name: str) -> None:
        if self._depth == self._container_depth:
            self._container_open = False
        self._depth -= 1
        self._handler.end_element(name)

    def _start_cdata(self) -> None:
        self._in_cdata = True

    def _end_cdata(self) -> None:
        self._in_cdata = False

    def _between_items(self) -> bool:
        # Expat keeps an unfinished comment, processing instruction or
        # reference, or a final CR or "]" (which may start CR LF or "]]>"),
        # until more input comes, so its position is then before the end of
        # what it was given. An open CDATA section it reads as it comes.
        return (
            self._container_open
            and self._depth == self._container_depth
            and not self._in_cdata
            and self._parser.CurrentByteIndex == self._fed_bytes
        )

    # The three modes.

    def _parse_prolog(self) -> None:
        """Feed expat up to the container's start tag, then hand over to the scanner."""
        while True:
            match = self._container.search(self._pending)
            if match is None:
                held_back = len(self._pending) - CONTAINER_TAG_MAX_BYTES
                if held_back > 0:
                    self._parse(self._pending[:held_back])
                    self._pending = self._pending[held_back:]
                return
            tag_start = self._fed_bytes + match.start()
            self._parse(self._pending[: match.end()])
            self._pending = self._pending[match.end() :]
            if self._container_start == tag_start and self._can_scan():
                prefix = self._handler.prefix
                self._scanner = self._make_scanner(prefix)
                self._item_end = f"</{prefix}{self._item_name}>".encode()
                self._mode = _Mode.SCANNER
                return

    def _can_scan(self) -> bool:
        # The scanners read UTF-8 only. A part in another single-byte encoding
        # declares it; in UTF-16 the ASCII pattern of the tag never matches.
        return self._utf8 and self._between_items()

    def _scan_items(self) -> None:
        end = self._pending.rfind(self._item_end)
        if end < 0:
            if len(self._pending) > MAX_PENDING_BYTES:
                self._hand_over_to_expat()
            return
        end += len(self._item_end)
        block = self._pending[:end]
        self._pending = self._pending[end:]
        assert self._scanner is not None
        read = self._scanner.scan(block, self)
        if read < len(block):
            self._parse(block[read:])
            if not self._between_items():
                self._mode = _Mode.EXPAT

    def _hand_over_to_expat(self) -> None:
        assert self._scanner is not None
        self._scanner.before_expat()
        self._mode = _Mode.EXPAT

    def _parse_until_between_items(self) -> None:
        """Feed expat item by item until it is back between two items."""
        while True:
            end = self._pending.find(self._item_end)
            if end < 0:
                # Hold back what could be the start of an item's end tag.
                cut = max(len(self._pending) - len(self._item_end) + 1, 0)
                self._parse(self._pending[:cut])
                self._pending = self._pending[cut:]
                return
            end += len(self._item_end)
            self._parse(self._pending[:end])
            self._pending = self._pending[end:]
            if self._between_items():
                self._mode = _Mode.SCANNER
                self._scan_items()
                return

    def _parse(self, data: bytes, final: bool = False) -> None:
        self._fed_bytes += len(data)
        try:
            self._parser.Parse(data, final)
        except expat.ExpatError as error:
            line, column = self._positions.in_part(error.lineno, error.offset)
            raise safe_xml.invalid_xml(
                self._part_name, error.code, line, column
            ) from None


class _PositionMap:
    """Maps expat's line and column to the whole part, with the scanned bytes in it.

    Expat counts a line break as one line and each character as one column. The
    skipped regions contain no carriage return, because the scanners leave any
    text with one to expat, so ``\\n`` is their only line break.
    """

    __slots__ = ("_column", "_fed_column", "_fed_line", "_line")

    def __init__(self) -> None:
        # The last skipped region ends at expat's (_fed_line, _fed_column), which
        # is (_line, _column) in the part.
        self._fed_line = 1
        self._fed_column = 0
        self._line = 1
        self._column = 0

    def in_part(self, fed_line: int, fed_column: int) -> tuple[int, int]:
        """Return the part's line and column of a position in what expat read."""
        if fed_line == self._fed_line:
            return self._line, self._column + fed_column - self._fed_column
        return self._line + fed_line - self._fed_line, fed_column

    def skip(self, fed_line: int, fed_column: int, region: bytes) -> None:
        """Insert ``region`` at expat's current position, which ends its input."""
        line, column = self.in_part(fed_line, fed_column)
        # The "in" test runs at memchr's speed, and count() reads every byte.
        if b"\n" in region:
            line += region.count(b"\n")
            column = _character_count(region[region.rfind(b"\n") + 1 :])
        else:
            column += _character_count(region)
        self._fed_line, self._fed_column = fed_line, fed_column
        self._line, self._column = line, column


def _character_count(data: bytes) -> int:
    # Scanned regions are valid UTF-8, because the scanners decode every text.
    return len(data) if data.isascii() else len(data.decode("utf-8"))
