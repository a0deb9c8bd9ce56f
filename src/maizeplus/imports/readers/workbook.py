"""The structure of an XLSX workbook: its first worksheet and the parts it needs.

The first worksheet is the first ``<sheet>`` of ``xl/workbook.xml``, found
through its relationship id in ``xl/_rels/workbook.xml.rels``. Its part name is
whatever that relationship targets, which need not be ``sheet1.xml``.
"""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass

from maizeplus.imports.errors import FileUnreadable
from maizeplus.imports.readers import safe_xml
from maizeplus.imports.readers.archive import Archive

WORKBOOK_PART = "xl/workbook.xml"
WORKBOOK_RELATIONSHIPS_PART = "xl/_rels/workbook.xml.rels"
# Usual part names, used when no relationship names these parts.
DEFAULT_SHARED_STRINGS_PART = "xl/sharedStrings.xml"
DEFAULT_STYLES_PART = "xl/styles.xml"

# Relationship types end the same way in transitional and strict OOXML.
WORKSHEET_TYPE_SUFFIX = "/worksheet"
SHARED_STRINGS_TYPE_SUFFIX = "/sharedStrings"
STYLES_TYPE_SUFFIX = "/styles"
NOT_WORKSHEET_TYPE_SUFFIXES = {
    "/chartsheet": "a chart",
    "/dialogsheet": "a dialog sheet",
    "/xlMacrosheet": "a macro sheet",
}


@dataclass(frozen=True, slots=True)
class WorkbookParts:
    """The entries that reading the first worksheet needs."""

    worksheet: zipfile.ZipInfo
    shared_strings: zipfile.ZipInfo | None
    styles: zipfile.ZipInfo | None
    date1904: bool


@dataclass(frozen=True, slots=True)
class Relationship:
    type: str
    target: str
    external: bool


def unreadable_workbook(detail: str) -> FileUnreadable:
    return FileUnreadable(
        f"The XLSX file is not a readable workbook: {detail}. "
        "Open it in Excel and save it again as 'Excel Workbook (.xlsx)'."
    )


class _WorkbookHandler:
    """Expat handlers that find the first sheet's relationship id and date system."""

    def __init__(self) -> None:
        self.first_sheet_id: str | None = None
        self.first_sheet_name = ""
        self.date1904 = False
        self._sheet_seen = False

    def start_element(self, name: str, attributes: dict[str, str]) -> None:
        element = safe_xml.local_name(name)
        if element == "sheet" and not self._sheet_seen:
            self._sheet_seen = True
            self.first_sheet_name = attributes.get("name", "")
            self.first_sheet_id = _relationship_id(attributes)
        elif element == "workbookPr":
            self.date1904 = attributes.get("date1904", "").strip().lower() in (
                "1",
                "true",
            )


def _relationship_id(attributes: dict[str, str]) -> str | None:
    for name, value in attributes.items():
        is_id = safe_xml.local_name(name) == "id"
        if is_id and safe_xml.namespace_of(name).endswith("relationships"):
            return value
    return None


def read_workbook_parts(archive: Archive) -> WorkbookParts:
    """Find the first worksheet of the workbook, its shared strings and its styles."""
    workbook = _WorkbookHandler()
    _parse(archive, WORKBOOK_PART, workbook.start_element)
    if workbook.first_sheet_id is None:
        raise unreadable_workbook("xl/workbook.xml lists no sheet")

    relationships = read_relationships(archive, WORKBOOK_RELATIONSHIPS_PART)
    sheet = relationships.get(workbook.first_sheet_id)
    if sheet is None or sheet.external:
        relationship_id = workbook.first_sheet_id
        raise unreadable_workbook(
            f"the relationship {relationship_id!r} of the first sheet is missing"
        )
    _check_is_worksheet(sheet, workbook.first_sheet_name)

    return WorkbookParts(
        worksheet=_require(archive, resolve_target(sheet.target)),
        shared_strings=_find_related(
            archive,
            relationships,
            SHARED_STRINGS_TYPE_SUFFIX,
            DEFAULT_SHARED_STRINGS_PART,
        ),
        styles=_find_related(
            archive, relationships, STYLES_TYPE_SUFFIX, DEFAULT_STYLES_PART
        ),
        date1904=workbook.date1904,
    )


def _check_is_worksheet(sheet: Relationship, sheet_name: str) -> None:
    if sheet.type.endswith(WORKSHEET_TYPE_SUFFIX):
        return
    for suffix, description in NOT_WORKSHEET_TYPE_SUFFIXES.items():
        if sheet.type.endswith(suffix):
            raise FileUnreadable(
                f"The first sheet of the workbook ({sheet_name!r}) is {description}, "
                "not a worksheet. Move the staff list to the first sheet."
            )
    raise unreadable_workbook(f"the first sheet has the unknown type {sheet.type!r}")


def read_relationships(archive: Archive, part_name: str) -> dict[str, Relationship]:
    """Parse a relationships part into a map from relationship id to relationship."""
    relationships: dict[str, Relationship] = {}

    def start_element(name: str, attributes: dict[str, str]) -> None:
        if safe_xml.local_name(name) != "Relationship":
            return
        relationships[attributes.get("Id", "")] = Relationship(
            type=attributes.get("Type", ""),
            target=attributes.get("Target", ""),
            external=attributes.get("TargetMode", "") == "External",
        )

    _parse(archive, part_name, start_element)
    return relationships


def resolve_target(target: str, source_folder: str = "xl") -> str:
    """Turn a relationship target (``/xl/a.xml`` or ``a.xml``) into a part name."""
    if target.startswith("/"):
        path = posixpath.normpath(target.lstrip("/"))
    else:
        path = posixpath.normpath(posixpath.join(source_folder, target))
    if path.startswith("../") or path == "..":
        raise unreadable_workbook(
            f"the relationship target {target!r} is outside the file"
        )
    return path


def _find_related(
    archive: Archive,
    relationships: dict[str, Relationship],
    type_suffix: str,
    default_part: str,
) -> zipfile.ZipInfo | None:
    for relationship in relationships.values():
        if relationship.type.endswith(type_suffix) and not relationship.external:
            return _require(archive, resolve_target(relationship.target))
    return archive.find(default_part)


def _require(archive: Archive, part_name: str) -> zipfile.ZipInfo:
    info = archive.find(part_name)
    if info is None:
        raise unreadable_workbook(f"the part {part_name} is missing")
    return info


def _parse(
    archive: Archive, part_name: str, start_element: safe_xml.StartHandler
) -> None:
    info = _require(archive, part_name)
    parser = safe_xml.create_parser(part_name)
    parser.StartElementHandler = start_element
    safe_xml.parse_all(parser, part_name, archive.chunks(info))
