"""A minimal XLSX writer for tests: parts given as XML text, defaults for the rest."""

from __future__ import annotations

import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
OFFICE_RELATIONSHIPS = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
)
PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
WORKBOOK_TYPE = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
)
MACRO_WORKBOOK_TYPE = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def content_types(workbook_type: str = WORKBOOK_TYPE) -> str:
    return (
        f"{XML_DECLARATION}"
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{workbook_type}"/>'
        "</Types>"
    )


def workbook(sheet_ids: Sequence[str] = ("rId1",), date1904: bool = False) -> str:
    sheets = "".join(
        f'<sheet name="Sheet{index}" sheetId="{index}" r:id="{sheet_id}"/>'
        for index, sheet_id in enumerate(sheet_ids, start=1)
    )
    properties = '<workbookPr date1904="1"/>' if date1904 else ""
    return (
        f'{XML_DECLARATION}<workbook xmlns="{MAIN}" xmlns:r="{OFFICE_RELATIONSHIPS}">'
        f"{properties}<sheets>{sheets}</sheets></workbook>"
    )


def relationships(targets: Mapping[str, tuple[str, str]]) -> str:
    """Build a relationships part from ``{id: (type name, target)}``."""
    items = "".join(
        f'<Relationship Id="{rel_id}" Type="{OFFICE_RELATIONSHIPS}/{kind}" '
        f"Target={quoteattr(target)}/>"
        for rel_id, (kind, target) in targets.items()
    )
    root = f'<Relationships xmlns="{PACKAGE_RELATIONSHIPS}">'
    return f"{XML_DECLARATION}{root}{items}</Relationships>"


def sheet(rows_xml: str, prefix: str = "") -> str:
    """Wrap ``<row>`` elements in a worksheet; a prefix such as ``x:`` is optional."""
    declaration = f"xmlns:{prefix[:-1]}" if prefix else "xmlns"
    return (
        f'{XML_DECLARATION}<{prefix}worksheet {declaration}="{MAIN}">'
        f"<{prefix}sheetData>{rows_xml}</{prefix}sheetData></{prefix}worksheet>"
    )


def shared_strings(items: Sequence[str]) -> str:
    """Build sharedStrings.xml from ``<si>`` contents given as XML."""
    body = "".join(f"<si>{item}</si>" for item in items)
    return f'{XML_DECLARATION}<sst xmlns="{MAIN}" count="{len(items)}">{body}</sst>'


def plain_shared_strings(texts: Sequence[str]) -> str:
    return shared_strings(
        [f'<t xml:space="preserve">{escape(text)}</t>' for text in texts]
    )


def styles(
    cell_format_ids: Sequence[int], custom_formats: Mapping[int, str] = {}
) -> str:
    formats = "".join(
        f"<numFmt numFmtId={quoteattr(str(format_id))} formatCode={quoteattr(code)}/>"
        for format_id, code in custom_formats.items()
    )
    cell_formats = "".join(
        f'<xf numFmtId="{format_id}" xfId="0"/>' for format_id in cell_format_ids
    )
    return (
        f'{XML_DECLARATION}<styleSheet xmlns="{MAIN}">'
        f'<numFmts count="{len(custom_formats)}">{formats}</numFmts>'
        '<cellStyleXfs count="1"><xf numFmtId="14"/></cellStyleXfs>'
        f'<cellXfs count="{len(cell_format_ids)}">{cell_formats}</cellXfs>'
        "</styleSheet>"
    )


def inline_row(number: int, values: Sequence[str | None]) -> str:
    """Build a ``<row>`` of inline-string cells, skipping None values."""
    cells = "".join(
        f'<c r="{column_name(index)}{number}" t="inlineStr">'
        f'<is><t xml:space="preserve">{escape(value)}</t></is></c>'
        for index, value in enumerate(values)
        if value is not None
    )
    return f'<row r="{number}">{cells}</row>'


def column_name(index: int) -> str:
    """Return the column letters of a zero-based column index (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def write_xlsx(
    path: Path,
    sheet_xml: str | bytes,
    *,
    shared_strings_xml: str | bytes | None = None,
    styles_xml: str | None = None,
    workbook_xml: str | None = None,
    workbook_relationships_xml: str | None = None,
    content_types_xml: str | None = None,
    sheet_part: str = "xl/worksheets/sheet1.xml",
    extra_parts: Mapping[str, bytes | str] = {},
    compression: int = zipfile.ZIP_DEFLATED,
) -> Path:
    """Write an XLSX file; parts left out get defaults that make a valid workbook."""
    targets = {"rId1": ("worksheet", sheet_part.removeprefix("xl/"))}
    if shared_strings_xml is not None:
        targets["rId2"] = ("sharedStrings", "sharedStrings.xml")
    if styles_xml is not None:
        targets["rId3"] = ("styles", "styles.xml")
    parts: dict[str, bytes | str] = {
        "[Content_Types].xml": content_types_xml or content_types(),
        "xl/workbook.xml": workbook_xml or workbook(),
        "xl/_rels/workbook.xml.rels": workbook_relationships_xml
        or relationships(targets),
        sheet_part: sheet_xml,
    }
    if shared_strings_xml is not None:
        parts["xl/sharedStrings.xml"] = shared_strings_xml
    if styles_xml is not None:
        parts["xl/styles.xml"] = styles_xml
    parts.update(extra_parts)
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return path


def patch_entry(
    path: Path, name: str, *, flag_bits: int | None = None, file_size: int | None = None
) -> None:
    """Overwrite fields of an entry in both its local header and the central directory.

    This makes files that zipfile cannot write: an entry marked encrypted, or
    one whose declared uncompressed size is a lie.
    """
    content = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
    local = info.header_offset
    central = _central_offset(content, name)
    if flag_bits is not None:
        content[local + 6 : local + 8] = flag_bits.to_bytes(2, "little")
        content[central + 8 : central + 10] = flag_bits.to_bytes(2, "little")
    if file_size is not None:
        content[local + 22 : local + 26] = file_size.to_bytes(4, "little")
        content[central + 24 : central + 28] = file_size.to_bytes(4, "little")
    path.write_bytes(bytes(content))


def _central_offset(content: bytearray, name: str) -> int:
    encoded = name.encode()
    position = content.find(b"PK\x01\x02")
    while position >= 0:
        name_length = int.from_bytes(content[position + 28 : position + 30], "little")
        if content[position + 46 : position + 46 + name_length] == encoded:
            return position
        position = content.find(b"PK\x01\x02", position + 4)
    raise AssertionError(f"{name} is not in the central directory")
