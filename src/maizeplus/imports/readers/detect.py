"""Deciding from its content, never from its name, whether an upload is CSV or XLSX.

XLSX detection needs the ZIP central directory at the end of the file, so the
functions take the whole file (an open binary file or a path), not only its
first bytes.
"""

from __future__ import annotations

import zipfile
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

from maizeplus.imports.errors import FileUnreadable, UploadRejected
from maizeplus.imports.readers import safe_xml
from maizeplus.imports.readers.archive import ZIP_ERRORS, read_entry_count


class FileFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


ACCEPTED_TYPES = "The file must be a file of type: csv, xlsx."

HEAD_BYTES = 8192
# Detection only lists names, but zipfile builds an object per entry; this caps
# that memory at upload time. The job then applies import_xlsx_max_entries.
DETECTION_MAX_ZIP_ENTRIES = 10_000
# A real [Content_Types].xml has a few kilobytes.
CONTENT_TYPES_MAX_BYTES = 1024 * 1024

ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

# Signatures of files people upload by mistake, with what to tell them.
BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "an Excel 97-2003 workbook (.xls), a password-protected workbook or another "
        "OLE2 document; open it in Excel and save it as .xlsx without a password, "
        "or as CSV",
    ),
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\xff\xfe\x00\x00", "UTF-32 text, which is not supported; save it as UTF-8"),
)

WORKBOOK_PART = "xl/workbook.xml"
CONTENT_TYPES_PART = "[content_types].xml"
WORKBOOK_CONTENT_TYPE = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
)
SAVE_AS_XLSX = "save it as 'Excel Workbook (.xlsx)' or as CSV"
# Other workbook content types, with what to tell the person who uploads one.
OTHER_WORKBOOK_TYPES = {
    "application/vnd.ms-excel.sheet.macroenabled.main+xml": (
        f"a macro-enabled workbook (.xlsm); {SAVE_AS_XLSX}"
    ),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": (
        f"an Excel template (.xltx); {SAVE_AS_XLSX}"
    ),
    "application/vnd.ms-excel.template.macroenabled.main+xml": (
        f"a macro-enabled Excel template (.xltm); {SAVE_AS_XLSX}"
    ),
    "application/vnd.ms-excel.addin.macroenabled.main+xml": "an Excel add-in (.xlam)",
}
# Entries that identify other ZIP-based documents.
OTHER_ZIP_PARTS = {
    "xl/workbook.bin": "an Excel binary workbook (.xlsb); save it as .xlsx or as CSV",
    "word/document.xml": "a Word document (.docx)",
    "ppt/presentation.xml": "a PowerPoint presentation (.pptx)",
    "content.xml": "an OpenDocument file (such as .ods); save it as .xlsx or as CSV",
}


def detect_upload_format(upload: BinaryIO) -> FileFormat:
    """Detect the format of a seekable open file; its position is restored afterwards.

    Raises ``UploadRejected`` for an empty file and for anything but CSV text or
    a normal XLSX workbook.
    """
    position = upload.tell()
    try:
        return _detect(upload)
    finally:
        upload.seek(position)


def detect_format(path: Path) -> FileFormat:
    """Detect the format of a stored file, raising ``UploadRejected`` as above."""
    with path.open("rb") as file:
        return _detect(file)


def _detect(file: BinaryIO) -> FileFormat:
    file.seek(0)
    head = file.read(HEAD_BYTES)
    if not head:
        raise UploadRejected(
            "The file is empty. Upload a CSV or XLSX file with a header row."
        )

    if head.startswith(ZIP_SIGNATURES):
        return _detect_zip(file)

    for signature, description in BINARY_SIGNATURES:
        if head.startswith(signature):
            raise _rejected(description)

    if not head.startswith(UTF16_BOMS) and b"\x00" in head:
        raise _rejected(
            "binary data, not text (a text file in UTF-16 needs a byte-order mark; "
            "save it as CSV UTF-8)"
        )
    return FileFormat.CSV


def _rejected(description: str) -> UploadRejected:
    return UploadRejected(f"{ACCEPTED_TYPES} This file looks like {description}.")


def _detect_zip(file: BinaryIO) -> FileFormat:
    try:
        count = read_entry_count(file)
        if count > DETECTION_MAX_ZIP_ENTRIES:
            raise _rejected(
                f"a ZIP archive of {count:,} entries, too many for a workbook"
            )
        file.seek(0)
        with zipfile.ZipFile(file) as archive:
            return _classify_zip(archive)
    except FileUnreadable as error:
        raise _rejected(
            f"a damaged ZIP archive or workbook ({error.message})"
        ) from None
    except ZIP_ERRORS as error:
        raise _rejected(f"a damaged ZIP archive ({error})") from None


def _classify_zip(archive: zipfile.ZipFile) -> FileFormat:
    names = {info.filename.lower(): info for info in archive.infolist()}
    if WORKBOOK_PART not in names:
        for part, description in OTHER_ZIP_PARTS.items():
            if part in names:
                raise _rejected(description)
        raise _rejected("a ZIP archive that is not an Excel workbook")

    content_types = names.get(CONTENT_TYPES_PART)
    if content_types is None:
        raise _rejected("a damaged workbook: it has no [Content_Types].xml part")
    content_type = _workbook_content_type(archive, content_types)
    if content_type == WORKBOOK_CONTENT_TYPE:
        return FileFormat.XLSX

    unsupported = f"a workbook of the unsupported content type {content_type!r}"
    raise _rejected(OTHER_WORKBOOK_TYPES.get(content_type, unsupported))


def _workbook_content_type(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    """Return the workbook's content type in [Content_Types].xml, lower-cased."""
    if info.file_size > CONTENT_TYPES_MAX_BYTES:
        raise _rejected(
            f"a damaged workbook: {info.filename} has {info.file_size:,} bytes"
        )
    overrides: dict[str, str] = {}
    defaults: dict[str, str] = {}

    def start_element(name: str, attributes: dict[str, str]) -> None:
        element = safe_xml.local_name(name)
        if element == "Override":
            part = attributes.get("PartName", "").lower()
            overrides[part] = attributes.get("ContentType", "")
        elif element == "Default":
            extension = attributes.get("Extension", "").lower()
            defaults[extension] = attributes.get("ContentType", "")

    parser = safe_xml.create_parser(info.filename)
    parser.StartElementHandler = start_element
    with archive.open(info) as entry:
        content = entry.read(CONTENT_TYPES_MAX_BYTES)
    safe_xml.parse_all(parser, info.filename, [content])

    content_type = overrides.get("/" + WORKBOOK_PART) or defaults.get("xml", "")
    return content_type.strip().lower()
