"""Schemathesis hooks: values that the service accepts where a JSON Schema is looser.

Loaded by ``scripts/run-schemathesis`` through ``SCHEMATHESIS_HOOKS``.
"""

from __future__ import annotations

import io
import zipfile

import schemathesis
from hypothesis import strategies as st

# Schemathesis 4.32 draws email domains from a list that includes `.test`.
# The service rejects addresses at special-use domains (RFC 6761), as its
# OpenAPI description of DELETE /api/v1/users states, so generated addresses
# keep to ordinary top-level domains.
_LOCAL_PART = st.from_regex(
    r"[a-z0-9](?:[a-z0-9!#$%&'*+/=?^_`{|}~-]{0,15})", fullmatch=True
)
_DOMAIN = st.from_regex(
    r"(?:[a-z0-9]{1,8}\.){1,2}(?:com|org|net|io|example)", fullmatch=True
)
EMAILS = st.builds("{}@{}".format, _LOCAL_PART, _DOMAIN)

# Cells without the separator, quotes, line breaks or NUL, which would change
# the shape of the file rather than its values.
_CELL = st.text(
    alphabet=st.characters(exclude_categories=["Cs", "Cc"], exclude_characters=';"'),
    max_size=20,
)
_ROWS = st.lists(st.tuples(EMAILS, _CELL, _CELL), max_size=5)
_CSV_ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16"])


def _csv_file(rows: list[tuple[str, str, str]], encoding: str) -> bytes:
    lines = ["email;first_name;last_name", *(";".join(row) for row in rows)]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def _xlsx_file() -> bytes:
    """Build a minimal workbook of one header row with the standard library."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    relationships = (
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    )
    workbook_type = (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    )
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{workbook_type}"/>'
            "</Types>"
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{main}" xmlns:r="{relationships}"><sheets>'
            '<sheet name="Users" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{relationships}/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": (
            f'<worksheet xmlns="{main}"><sheetData><row r="1">'
            '<c r="A1" t="inlineStr"><is><t>email</t></is></c>'
            '<c r="B1" t="inlineStr"><is><t>first_name</t></is></c>'
            '<c r="C1" t="inlineStr"><is><t>last_name</t></is></c>'
            "</row></sheetData></worksheet>"
        ),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return buffer.getvalue()


# The service recognises an upload as CSV or XLSX by its content, which a JSON
# Schema cannot describe, so schema-valid uploads are files of those formats.
UPLOADS = st.one_of(st.builds(_csv_file, _ROWS, _CSV_ENCODINGS), st.just(_xlsx_file()))

schemathesis.openapi.format("email", EMAILS)
schemathesis.openapi.format("binary", UPLOADS)
