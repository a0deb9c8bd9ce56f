"""Format detection by content: CSV text, normal XLSX, and what is rejected."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from maizeplus.imports.errors import FileUnreadable, UploadRejected
from maizeplus.imports.readers import FileFormat, detect_format, detect_upload_format
from tests.imports.readers import workbooks
from tests.imports.readers.support import HEADER, read_file

CASES = Path(__file__).parents[2] / "data" / "cases"
CSV_HEADER = ";".join(HEADER).encode()


def rejection(content: bytes) -> str:
    with pytest.raises(UploadRejected) as raised:
        detect_upload_format(io.BytesIO(content))
    return raised.value.message


def zip_bytes(parts: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_detect_csv_case_files() -> None:
    for path in CASES.glob("*.csv"):
        assert detect_format(path) is FileFormat.CSV, path.name


def test_detect_xlsx_case_files() -> None:
    for path in CASES.glob("*.xlsx"):
        assert detect_format(path) is FileFormat.XLSX, path.name


def test_detect_restores_position() -> None:
    upload = io.BytesIO(CSV_HEADER + b"\r\n")
    upload.seek(5)

    assert detect_upload_format(upload) is FileFormat.CSV
    assert upload.tell() == 5


def test_detect_utf16_with_bom() -> None:
    content = "\ufeff".encode("utf-16-le") + ";".join(HEADER).encode("utf-16-le")

    assert detect_upload_format(io.BytesIO(content)) is FileFormat.CSV


def test_detect_rejects_empty() -> None:
    assert "empty" in rejection(b"")


def test_detect_rejects_xls() -> None:
    message = rejection(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)

    assert message.startswith("The file must be a file of type: csv, xlsx.")
    assert ".xls" in message


def test_detect_rejects_xlsm(tmp_path: Path) -> None:
    path = workbooks.write_xlsx(
        tmp_path / "macro.xlsx",
        workbooks.sheet(""),
        content_types_xml=workbooks.content_types(workbooks.MACRO_WORKBOOK_TYPE),
    )

    message = rejection(path.read_bytes())

    assert message.startswith("The file must be a file of type: csv, xlsx.")
    assert ".xlsm" in message


def test_detect_rejects_template(tmp_path: Path) -> None:
    template_type = (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml"
    )
    path = workbooks.write_xlsx(
        tmp_path / "template.xlsx",
        workbooks.sheet(""),
        content_types_xml=workbooks.content_types(template_type),
    )

    assert ".xltx" in rejection(path.read_bytes())


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG"),
        (b"GIF89a\x01\x00\x01\x00", "GIF"),
        (b"\x1f\x8b\x08\x00", "gzip"),
        (b"\x00\x01\x02\x03binary", "binary data"),
        (b"\xff\xfe\x00\x00e\x00\x00\x00", "UTF-32"),
    ],
)
def test_detect_rejects_binary(content: bytes, expected: str) -> None:
    message = rejection(content)

    assert message.startswith("The file must be a file of type: csv, xlsx.")
    assert expected in message


def test_detect_rejects_other_zip() -> None:
    message = rejection(zip_bytes({"readme.txt": "hello"}))

    assert "ZIP archive that is not an Excel workbook" in message


def test_detect_rejects_docx() -> None:
    message = rejection(
        zip_bytes({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w/>"})
    )

    assert "Word document" in message


def test_detect_rejects_missing_content_types() -> None:
    message = rejection(zip_bytes({"xl/workbook.xml": workbooks.workbook()}))

    assert "[Content_Types].xml" in message


def test_detect_rejects_damaged_zip() -> None:
    message = rejection(b"PK\x03\x04" + b"\x00" * 100)

    assert "damaged ZIP" in message


def test_detect_rejects_doctype_in_content_types() -> None:
    content_types = '<!DOCTYPE Types [<!ENTITY a "b">]><Types/>'
    message = rejection(
        zip_bytes({"[Content_Types].xml": content_types, "xl/workbook.xml": "<w/>"})
    )

    assert "DOCTYPE" in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"%PDF-1.4\n", "PDF"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, ".xls"),
        (b"", "empty"),
    ],
)
def test_open_sheet_rejects_stored_file(
    content: bytes, expected: str, tmp_path: Path
) -> None:
    path = tmp_path / "upload"
    path.write_bytes(content)

    with pytest.raises(FileUnreadable) as raised:
        read_file(path, tmp_path)

    assert expected in raised.value.message
