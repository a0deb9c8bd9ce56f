"""Detection of the cell styles of a workbook that show numbers as dates or times.

Excel stores a date as a plain number (days since 1899-12-30) and only the
number format of the cell's style (``s`` → ``cellXfs`` → ``numFmtId``) makes it
a date. ECMA-376 Part 1, 18.8.30 lists the built-in formats.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from maizeplus.imports.readers import safe_xml

# Built-in number formats that show dates or times: 14-22 in every locale,
# 27-36 and 50-58 in East Asian locales, 45-47 the minute/second formats.
BUILTIN_DATE_FORMAT_IDS = frozenset(
    [*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)]
)

# Parts of a format code that are not date/time tokens: quoted text, bracketed
# sections ([Red], [$-409], [>100]), an escaped character (\x), and the
# character after _ (a space as wide as it) or * (a fill).
_LITERAL_PARTS = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.')
_DATE_TOKENS = re.compile(r"[dmyhs]", re.IGNORECASE)


def is_date_format_code(code: str) -> bool:
    """Tell whether a custom number format code shows a date or a time."""
    tokens = _LITERAL_PARTS.sub("", code)
    if tokens.strip().lower() == "general":
        return False
    return _DATE_TOKENS.search(tokens) is not None


class StylesHandler:
    """Expat handlers that collect the number format of each style in styles.xml."""

    def __init__(self) -> None:
        self.custom_format_codes: dict[int, str] = {}
        self.cell_format_ids: list[int] = []
        self._in_cell_formats = False

    def start_element(self, name: str, attributes: dict[str, str]) -> None:
        element = safe_xml.local_name(name)
        if element == "numFmt":
            format_id = _parse_id(attributes.get("numFmtId"))
            self.custom_format_codes[format_id] = attributes.get("formatCode", "")
        elif element == "cellXfs":
            self._in_cell_formats = True
        elif element == "xf" and self._in_cell_formats:
            self.cell_format_ids.append(_parse_id(attributes.get("numFmtId")))

    def end_element(self, name: str) -> None:
        if safe_xml.local_name(name) == "cellXfs":
            self._in_cell_formats = False

    def date_styles(self) -> tuple[bool, ...]:
        """Return, for each cell style index, whether it shows numbers as dates."""
        return tuple(
            self._is_date_format(format_id) for format_id in self.cell_format_ids
        )

    def _is_date_format(self, format_id: int) -> bool:
        code = self.custom_format_codes.get(format_id)
        if code is not None:
            return is_date_format_code(code)
        return format_id in BUILTIN_DATE_FORMAT_IDS


def _parse_id(text: str | None) -> int:
    # A missing or malformed id means format 0, "General", as Excel reads it.
    if text is None or not text.strip().isdigit():
        return 0
    return int(text)


def read_date_styles(part_name: str, chunks: Iterable[bytes]) -> tuple[bool, ...]:
    """Parse styles.xml and return, per cell style index, whether it is a date style."""
    handler = StylesHandler()
    parser = safe_xml.create_parser(part_name)
    parser.StartElementHandler = handler.start_element
    parser.EndElementHandler = handler.end_element
    safe_xml.parse_all(parser, part_name, chunks)
    return handler.date_styles()
