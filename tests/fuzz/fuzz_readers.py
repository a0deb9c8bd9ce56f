"""An atheris target for the decode and read steps of an import.

    python tests/fuzz/fuzz_readers.py -max_total_time=30 CORPUS_DIR SEED_DIR...

Each input becomes an upload in one of three shapes, chosen by its first
bytes: the raw bytes as a file, CSV text in one of the encodings that the
reader detects, or a valid workbook with one part replaced by fuzzed bytes.
Raw bytes would almost never reach the XML parts, since they must form a
ZIP archive first. The upload goes through format detection and then, as a
stored file, through ``open_sheet`` and every row. ``UploadRejected`` and
``FileUnreadable`` are the expected ways to reject a file; any other
exception is a crash that atheris reports with the input that caused it.
"""

from __future__ import annotations

import io
import sys
import tempfile
import zipfile
from pathlib import Path

import atheris

# The readers' dependencies (pydantic through the settings, SQLAlchemy through
# the columns) are imported first, so that only the readers are instrumented:
# instrumenting every module takes over a minute.
from maizeplus.imports import cells, columns  # noqa: F401
from maizeplus.imports.errors import FileUnreadable, UploadRejected
from maizeplus.settings import Settings  # noqa: F401

with atheris.instrument_imports(include=["maizeplus.imports.readers"]):
    from maizeplus.imports.readers import ReadLimits, detect_upload_format, open_sheet

# Small limits keep each input fast; the limits themselves are under test too.
LIMITS = ReadLimits(
    max_upload_bytes=1024 * 1024,
    max_rows=2000,
    max_columns=50,
    max_cell_chars=10_000,
    xlsx_max_entries=50,
    xlsx_max_uncompressed_bytes=8 * 1024 * 1024,
    xlsx_max_compression_ratio=100,
    xlsx_ratio_exempt_bytes=64 * 1024,
)
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-be", "cp1252")
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORKBOOK_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>'
    ),
    "xl/workbook.xml": (
        f'<workbook xmlns="{MAIN}" xmlns:r="{RELATIONSHIPS}"><sheets>'
        '<sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        f'relationships"><Relationship Id="rId1" Type="{RELATIONSHIPS}/worksheet" '
        f'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" '
        f'Type="{RELATIONSHIPS}/sharedStrings" Target="sharedStrings.xml"/>'
        f'<Relationship Id="rId3" Type="{RELATIONSHIPS}/styles" Target="styles.xml"/>'
        "</Relationships>"
    ),
    "xl/worksheets/sheet1.xml": (
        f'<worksheet xmlns="{MAIN}"><sheetData><row r="1">'
        '<c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>first_name</t>'
        '</is></c><c r="C1" t="s" s="1"><v>1</v></c></row><row r="2">'
        '<c r="A2" t="inlineStr"><is><t>a@example.com</t></is></c><c r="B2"><v>12'
        '</v></c><c r="C2" t="b"><v>1</v></c><c r="D2" s="1"><v>45632</v></c>'
        "</row></sheetData></worksheet>"
    ),
    "xl/sharedStrings.xml": (
        f'<sst xmlns="{MAIN}"><si><t>email</t></si><si><r><t>last_</t></r>'
        "<r><t>name</t></r></si></sst>"
    ),
    "xl/styles.xml": (
        f'<styleSheet xmlns="{MAIN}"><numFmts><numFmt numFmtId="164" '
        'formatCode="dd/mm/yyyy"/></numFmts><cellXfs><xf numFmtId="0"/>'
        '<xf numFmtId="164"/></cellXfs></styleSheet>'
    ),
}
PART_NAMES = sorted(WORKBOOK_PARTS)

_work_dir = Path(tempfile.mkdtemp(prefix="fuzz-readers-"))
_upload = _work_dir / "upload"


def build_upload(data: bytes) -> bytes:
    provider = atheris.FuzzedDataProvider(data)
    shape = provider.ConsumeIntInRange(0, 2)
    if shape == 0:
        return provider.ConsumeBytes(provider.remaining_bytes())
    if shape == 1:
        encoding = ENCODINGS[provider.ConsumeIntInRange(0, len(ENCODINGS) - 1)]
        text = provider.ConsumeUnicodeNoSurrogates(provider.remaining_bytes())
        return text.encode(encoding, errors="replace")
    part = PART_NAMES[provider.ConsumeIntInRange(0, len(PART_NAMES) - 1)]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in PART_NAMES:
            if name == part:
                archive.writestr(
                    name, provider.ConsumeBytes(provider.remaining_bytes())
                )
            else:
                archive.writestr(name, WORKBOOK_PARTS[name])
    return buffer.getvalue()


def test_one_input(data: bytes) -> None:
    content = build_upload(data)
    try:
        detect_upload_format(io.BytesIO(content))
    except UploadRejected:
        return
    _upload.write_bytes(content)
    try:
        with open_sheet(_upload, LIMITS, _work_dir) as sheet:
            for _row in sheet.rows:
                pass
    except FileUnreadable:
        return


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
