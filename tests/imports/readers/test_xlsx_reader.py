"""The XLSX reader: cell types, dates, structure, hostile XML and ZIP limits."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maizeplus.imports.cells import DateCell, SheetRow
from maizeplus.imports.errors import FileUnreadable, LimitExceeded
from maizeplus.imports.readers.styles import is_date_format_code
from tests.imports.readers import workbooks
from tests.imports.readers.support import HEADER, ReadResult, limits, read_file

HEADER_ROW = workbooks.inline_row(1, HEADER)


def read_sheet(
    tmp_path: Path,
    rows_xml: str,
    *,
    shared_strings_xml: str | None = None,
    styles_xml: str | None = None,
    workbook_xml: str | None = None,
) -> ReadResult:
    """Write a workbook whose first sheet contains the header row and ``rows_xml``."""
    path = workbooks.write_xlsx(
        tmp_path / "upload.xlsx",
        workbooks.sheet(HEADER_ROW + rows_xml),
        shared_strings_xml=shared_strings_xml,
        styles_xml=styles_xml,
        workbook_xml=workbook_xml,
    )
    return read_file(path, tmp_path)


def read_unreadable(path: Path, tmp_path: Path, **changed_limits: int) -> str:
    with pytest.raises(FileUnreadable) as raised:
        read_file(path, tmp_path, limits(**changed_limits))
    return raised.value.message


def test_xlsx_shared_strings_rich_text(tmp_path: Path) -> None:
    strings = workbooks.shared_strings(
        [
            "<t>anna@example.com</t>",
            "<r><t>Nico</t></r><r><rPr><b/></rPr><t>lò</t></r>",
            '<t xml:space="preserve"> Tanaka </t>'
            '<rPh sb="0" eb="2"><t>タナカ</t></rPh>',
            "<t>A &amp; B &lt;x&gt;</t>",
        ]
    )
    row = (
        '<row r="2"><c r="A2" t="s"><v>0</v></c><c r="C2" t="s"><v>1</v></c>'
        '<c r="D2" t="s"><v>2</v></c><c r="E2" t="s"><v>3</v></c></row>'
    )

    result = read_sheet(tmp_path, row, shared_strings_xml=strings)

    assert result.rows == [
        SheetRow(2, ("anna@example.com", "", "Nicolò", " Tanaka ", "A & B <x>"))
    ]


def test_xlsx_inline_rich_text_and_phonetic(tmp_path: Path) -> None:
    row = (
        '<row r="2"><c r="A2" t="inlineStr"><is><r><t>Nico</t></r><r><t>lò</t></r>'
        '<rPh sb="0" eb="1"><t>ニコ</t></rPh></is></c></row>'
    )

    assert read_sheet(tmp_path, row).row(2) == ("Nicolò",)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('<c r="A2"><v>12345</v></c>', "12345"),
        ('<c r="A2" t="n"><v>12345.0</v></c>', "12345"),
        ('<c r="A2"><v>12345678901234567890</v></c>', "12345678901234567890"),
        ('<c r="A2"><v>-42</v></c>', "-42"),
        ('<c r="A2"><v>007</v></c>', "7"),
        (f'<c r="A2"><v>{"9" * 5000}</v></c>', "9" * 5000),
        ('<c r="A2"><v>1.5</v></c>', "1.5"),
        ('<c r="A2"><v>0.1</v></c>', "0.1"),
        ('<c r="A2"><v>3.9347123456E+11</v></c>', "393471234560"),
        ('<c r="A2"><v>1E-3</v></c>', "0.001"),
        ('<c r="A2" t="b"><v>1</v></c>', "true"),
        ('<c r="A2" t="b"><v>0</v></c>', "false"),
        ('<c r="A2" t="e"><v>#N/A</v></c>', "#N/A"),
        ('<c r="A2" t="str"><f>A1&amp;"x"</f><v>emailx</v></c>', "emailx"),
        ('<c r="A2"><f>1+1</f><v>2</v></c>', "2"),
        ('<c r="A2" t="inlineStr"><is><t xml:space="preserve"> a </t></is></c>', " a "),
        ('<c r="A2" t="d"><v>2025-12-03T00:00:00</v></c>', DateCell(45994.0)),
        ('<c r="A2" t="d"><v>1900-01-01</v></c>', DateCell(1.0)),
        ('<c r="A2" t="d"><v>12:00:00</v></c>', DateCell(0.5)),
        ('<c r="A2" t="d"><v>not a date</v></c>', "not a date"),
    ],
)
def test_xlsx_cell_value(cell: str, expected: object, tmp_path: Path) -> None:
    result = read_sheet(tmp_path, f'<row r="2">{cell}</row>')

    assert result.row(2) == (expected,)


def test_xlsx_date_styles(tmp_path: Path) -> None:
    styles = workbooks.styles(
        [0, 14, 22, 45, 164, 165, 166, 167, 2],
        {164: "dd/mm/yyyy", 165: '0.00" days"', 166: "[h]:mm", 167: "General"},
    )
    cells = "".join(
        f'<c r="{workbooks.column_name(i)}2" s="{i}"><v>45632</v></c>' for i in range(9)
    )

    result = read_sheet(tmp_path, f'<row r="2">{cells}</row>', styles_xml=styles)

    date = DateCell(45632.0)
    assert result.row(2) == (
        "45632",
        date,
        date,
        date,
        date,
        "45632",
        date,
        "45632",
        "45632",
    )


def test_xlsx_date1904(tmp_path: Path) -> None:
    row = '<row r="2"><c r="A2" s="1"><v>44170</v></c></row>'

    result = read_sheet(
        tmp_path,
        row,
        styles_xml=workbooks.styles([0, 14]),
        workbook_xml=workbooks.workbook(date1904=True),
    )

    assert result.row(2) == (DateCell(45632.0),)


@pytest.mark.parametrize(
    ("code", "is_date"),
    [
        ("dd/mm/yyyy", True),
        ("d-mmm", True),
        ("h:mm AM/PM", True),
        ("[h]:mm:ss", True),
        ("yyyy-mm-dd;@", True),
        ("General", False),
        ("0.00", False),
        ("#,##0", False),
        ('0" days"', False),
        ("[Red]0.00", False),
        ("[$€-2] #,##0.00", False),
        ("0.00E+00", False),
        ("\\d0", False),
        ("@", False),
    ],
)
def test_date_format_code(code: str, is_date: bool) -> None:
    assert is_date_format_code(code) is is_date


def test_xlsx_cells_without_references(tmp_path: Path) -> None:
    rows = (
        '<row><c t="inlineStr"><is><t>a@example.com</t></is></c>'
        "<c/><c><v>7</v></c></row>"
        '<row r="5"><c r="B5"><v>1</v></c><c><v>2</v></c></row>'
        "<row><c><v>3</v></c></row>"
    )

    result = read_sheet(tmp_path, rows)

    assert result.rows == [
        SheetRow(2, ("a@example.com", "", "7")),
        SheetRow(5, ("", "1", "2")),
        SheetRow(6, ("3",)),
    ]


def test_xlsx_gaps_and_trailing_empty_cells(tmp_path: Path) -> None:
    row = (
        '<row r="2"><c r="A2"><v>1</v></c><c r="D2"><v>4</v></c>'
        '<c r="F2" t="inlineStr"><is><t></t></is></c><c r="G2" s="0"/></row>'
        '<row r="3"><c r="AA3"><v>27</v></c></row>'
    )

    result = read_sheet(tmp_path, row)

    assert result.row(2) == ("1", "", "", "4")
    assert result.row(3) == ("",) * 26 + ("27",)


def test_xlsx_blank_rows_skipped(tmp_path: Path) -> None:
    rows = (
        '<row r="2"><c r="A2" t="inlineStr">'
        '<is><t xml:space="preserve"> \t\u00a0</t></is></c></row>'
        '<row r="3" customFormat="1"/><row r="4"><c r="A4"><v>1</v></c></row>'
    )

    assert read_sheet(tmp_path, rows).numbers() == [4]


def test_xlsx_header_not_on_row_1(tmp_path: Path) -> None:
    path = workbooks.write_xlsx(
        tmp_path / "upload.xlsx",
        workbooks.sheet(
            workbooks.inline_row(2, HEADER) + workbooks.inline_row(3, ["a"])
        ),
    )

    result = read_file(path, tmp_path)

    assert result.header == SheetRow(1, ())
    assert result.numbers() == [2, 3]
    assert result.row(2) == HEADER


def test_xlsx_header_only(tmp_path: Path) -> None:
    result = read_sheet(tmp_path, "")

    assert result.header == SheetRow(1, HEADER)
    assert result.rows == []


def test_xlsx_empty_sheet(tmp_path: Path) -> None:
    path = workbooks.write_xlsx(tmp_path / "upload.xlsx", workbooks.sheet(""))

    result = read_file(path, tmp_path)

    assert result.header == SheetRow(1, ())
    assert result.rows == []


def test_xlsx_first_sheet_through_relationships(tmp_path: Path) -> None:
    first = workbooks.sheet(workbooks.inline_row(1, ["first"]))
    second = workbooks.sheet(workbooks.inline_row(1, ["second"]))
    relationships = workbooks.relationships(
        {
            "rId7": ("worksheet", "/xl/worksheets/sheet1.xml"),
            "rId3": ("worksheet", "worksheets/people.xml"),
        }
    )
    path = workbooks.write_xlsx(
        tmp_path / "upload.xlsx",
        first,
        workbook_xml=workbooks.workbook(sheet_ids=("rId3", "rId7")),
        workbook_relationships_xml=relationships,
        extra_parts={"xl/worksheets/people.xml": second},
    )

    assert read_file(path, tmp_path).header == SheetRow(1, ("second",))


def test_xlsx_prefixed_namespace(tmp_path: Path) -> None:
    rows = (
        '<x:row r="1"><x:c r="A1" t="inlineStr">'
        "<x:is><x:t>email</x:t></x:is></x:c></x:row>"
        '<x:row r="2"><x:c r="A2" t="s"><x:v>0</x:v></x:c></x:row>'
    )
    strings = (
        f'<x:sst xmlns:x="{workbooks.MAIN}">'
        "<x:si><x:t>a@example.com</x:t></x:si></x:sst>"
    )
    path = workbooks.write_xlsx(
        tmp_path / "upload.xlsx",
        workbooks.sheet(rows, prefix="x:"),
        shared_strings_xml=strings,
    )

    result = read_file(path, tmp_path)

    assert result.header == SheetRow(1, ("email",))
    assert result.rows == [SheetRow(2, ("a@example.com",))]


def test_xlsx_chart_sheet_first(tmp_path: Path) -> None:
    relationships = workbooks.relationships(
        {"rId1": ("chartsheet", "chartsheets/sheet1.xml")}
    )
    path = workbooks.write_xlsx(
        tmp_path / "upload.xlsx",
        "<chartsheet/>",
        sheet_part="xl/chartsheets/sheet1.xml",
        workbook_relationships_xml=relationships,
    )

    assert "is a chart" in read_unreadable(path, tmp_path)


def test_xlsx_sheet_root_not_worksheet(tmp_path: Path) -> None:
    path = workbooks.write_xlsx(
        tmp_path / "upload.xlsx", f'<chartsheet xmlns="{workbooks.MAIN}"/>'
    )

    assert "not a worksheet" in read_unreadable(path, tmp_path)


DOCTYPE = '<!DOCTYPE x [<!ENTITY e "expanded">]>'


@pytest.mark.parametrize(
    "part", ["workbook", "relationships", "shared strings", "styles", "sheet"]
)
def test_xlsx_doctype_in_any_part(part: str, tmp_path: Path) -> None:
    sheet = workbooks.sheet(HEADER_ROW)
    parts = {
        "workbook": workbooks.workbook(),
        "relationships": workbooks.relationships(
            {
                "rId1": ("worksheet", "worksheets/sheet1.xml"),
                "rId2": ("sharedStrings", "sharedStrings.xml"),
                "rId3": ("styles", "styles.xml"),
            }
        ),
        "shared strings": workbooks.plain_shared_strings(["a"]),
        "styles": workbooks.styles([0]),
        "sheet": sheet,
    }
    parts[part] = parts[part].replace("?>\n", f"?>\n{DOCTYPE}", 1)
    path = workbooks.write_xlsx(
        tmp_path / "upload.xlsx",
        parts["sheet"],
        workbook_xml=parts["workbook"],
        workbook_relationships_xml=parts["relationships"],
        shared_strings_xml=parts["shared strings"],
        styles_xml=parts["styles"],
    )

    message = read_unreadable(path, tmp_path)

    assert "DOCTYPE" in message
    assert "expanded" not in message


def test_xlsx_undefined_entity(tmp_path: Path) -> None:
    path = workbooks.write_xlsx(
        tmp_path / "upload.xlsx",
        workbooks.sheet('<row r="1"><c t="inlineStr"><is><t>&e;</t></is></c></row>'),
    )

    assert "not valid XML" in read_unreadable(path, tmp_path)


def test_xlsx_broken_xml(tmp_path: Path) -> None:
    path = workbooks.write_xlsx(
        tmp_path / "upload.xlsx", workbooks.sheet('<row r="1"><c>')
    )

    message = read_unreadable(path, tmp_path)

    assert "xl/worksheets/sheet1.xml is not valid XML" in message


def test_xlsx_missing_sheet_part(tmp_path: Path) -> None:
    relationships = workbooks.relationships(
        {"rId1": ("worksheet", "worksheets/gone.xml")}
    )
    path = workbooks.write_xlsx(
        tmp_path / "upload.xlsx",
        workbooks.sheet(""),
        workbook_relationships_xml=relationships,
    )

    assert "xl/worksheets/gone.xml is missing" in read_unreadable(path, tmp_path)


def test_xlsx_missing_relationships(tmp_path: Path) -> None:
    path = tmp_path / "upload.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", workbooks.content_types())
        archive.writestr("xl/workbook.xml", workbooks.workbook())

    assert "xl/_rels/workbook.xml.rels is missing" in read_unreadable(path, tmp_path)


def test_xlsx_missing_shared_string(tmp_path: Path) -> None:
    row = '<row r="2"><c r="A2" t="s"><v>5</v></c></row>'

    with pytest.raises(FileUnreadable) as raised:
        read_sheet(
            tmp_path, row, shared_strings_xml=workbooks.plain_shared_strings(["a"])
        )

    assert "shared string '5'" in raised.value.message


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('<c r="A-1"><v>1</v></c>', "invalid reference 'A-1'"),
        ('<c r="ABCD2"><v>1</v></c>', "invalid reference 'ABCD2'"),
    ],
)
def test_xlsx_invalid_cell_reference(cell: str, expected: str, tmp_path: Path) -> None:
    with pytest.raises(FileUnreadable) as raised:
        read_sheet(tmp_path, f'<row r="2">{cell}</row>')

    assert expected in raised.value.message


@pytest.mark.parametrize("number", ["x", "-1", "1" * 5000])
def test_xlsx_invalid_row_number(number: str, tmp_path: Path) -> None:
    with pytest.raises(FileUnreadable) as raised:
        read_sheet(tmp_path, f'<row r="{number}"><c><v>1</v></c></row>')

    assert "invalid number" in raised.value.message


def test_xlsx_truncated_zip(tmp_path: Path) -> None:
    path = workbooks.write_xlsx(
        tmp_path / "upload.xlsx", workbooks.sheet(HEADER_ROW * 50)
    )
    path.write_bytes(path.read_bytes()[:-30])

    assert "damaged" in read_unreadable(path, tmp_path)


def test_xlsx_encrypted_entry(tmp_path: Path) -> None:
    path = workbooks.write_xlsx(tmp_path / "upload.xlsx", workbooks.sheet(HEADER_ROW))
    workbooks.patch_entry(path, "xl/workbook.xml", flag_bits=0x1)

    assert "encrypted" in read_unreadable(path, tmp_path)


def test_xlsx_declared_size_lie(tmp_path: Path) -> None:
    # The central directory claims 1,000 bytes for a sheet that expands to
    # about 1 MB: reading stops at the claimed size and the file is damaged.
    padding = "<row/>" * 170_000
    path = workbooks.write_xlsx(
        tmp_path / "upload.xlsx", workbooks.sheet(HEADER_ROW + padding)
    )
    workbooks.patch_entry(path, "xl/worksheets/sheet1.xml", file_size=1_000)

    message = read_unreadable(path, tmp_path)

    assert "damaged" in message


def test_xlsx_small_high_ratio_part_reads(tmp_path: Path) -> None:
    # Like case C21b of tests/data/cases/CASES.md: a sheet of two users that
    # expands to about 206 KB from a few hundred bytes, being mostly whitespace.
    users = workbooks.inline_row(2, ["anna.verdi@example.com", None, "Anna", "Verdi"])
    users += workbooks.inline_row(
        3, ["luca.bianchi@example.org", None, "Luca", "Bianchi"]
    )
    padding = " " * 205_000
    path = workbooks.write_xlsx(
        tmp_path / "upload.xlsx", workbooks.sheet(HEADER_ROW + users + padding)
    )
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    assert 150_000 < info.file_size < 1024 * 1024
    assert info.file_size / info.compress_size > 100
    assert info.compress_size < 1000

    result = read_file(path, tmp_path)

    assert [row.cells[0] for row in result.rows] == [
        "anna.verdi@example.com",
        "luca.bianchi@example.org",
    ]


def test_xlsx_ratio_limit_above_exempt_size(tmp_path: Path) -> None:
    padding = "<row/>" * 400_000
    path = workbooks.write_xlsx(
        tmp_path / "upload.xlsx", workbooks.sheet(HEADER_ROW + padding)
    )

    message = read_unreadable(path, tmp_path, xlsx_max_compression_ratio=50)

    assert "import_xlsx_max_compression_ratio" in message
    assert "50" in message


def test_xlsx_max_entries(tmp_path: Path) -> None:
    extra = {f"xl/media/image{n}.png": b"x" for n in range(10)}
    path = workbooks.write_xlsx(
        tmp_path / "upload.xlsx", workbooks.sheet(HEADER_ROW), extra_parts=extra
    )

    message = read_unreadable(path, tmp_path, xlsx_max_entries=10)

    assert "import_xlsx_max_entries" in message
    assert "14" in message


def test_xlsx_max_uncompressed_bytes(tmp_path: Path) -> None:
    path = workbooks.write_xlsx(
        tmp_path / "upload.xlsx", workbooks.sheet(HEADER_ROW * 100)
    )

    message = read_unreadable(path, tmp_path, xlsx_max_uncompressed_bytes=10_000)

    assert "import_xlsx_max_uncompressed_bytes" in message
    assert "10,000" in message


def test_xlsx_max_columns(tmp_path: Path) -> None:
    row = '<row r="2"><c r="M2"><v>1</v></c></row>'

    with pytest.raises(LimitExceeded) as raised:
        path = workbooks.write_xlsx(
            tmp_path / "upload.xlsx", workbooks.sheet(HEADER_ROW + row)
        )
        read_file(path, tmp_path, limits(max_columns=12))

    assert "import_max_columns" in raised.value.message
    assert "column 13" in raised.value.message


def test_xlsx_empty_cells_beyond_max_columns(tmp_path: Path) -> None:
    row = '<row r="2"><c r="A2"><v>1</v></c><c r="XFD2" s="1"/></row>'
    path = workbooks.write_xlsx(
        tmp_path / "upload.xlsx", workbooks.sheet(HEADER_ROW + row)
    )

    assert read_file(path, tmp_path, limits(max_columns=12)).row(2) == ("1",)


@pytest.mark.parametrize("kind", ["inline", "shared"])
def test_xlsx_max_cell_chars(kind: str, tmp_path: Path) -> None:
    text = "a" * 101
    if kind == "inline":
        rows = f'<row r="2"><c r="A2" t="inlineStr"><is><t>{text}</t></is></c></row>'
        strings = None
    else:
        rows = '<row r="2"><c r="A2" t="s"><v>0</v></c></row>'
        strings = workbooks.plain_shared_strings([text])
    path = workbooks.write_xlsx(
        tmp_path / "upload.xlsx",
        workbooks.sheet(HEADER_ROW + rows),
        shared_strings_xml=strings,
    )

    assert read_file(path, tmp_path, limits(max_cell_chars=101)).row(2) == (text,)
    message = read_unreadable(path, tmp_path, max_cell_chars=100)

    assert "import_max_cell_chars" in message


def test_xlsx_max_rows(tmp_path: Path) -> None:
    rows = "".join(workbooks.inline_row(n, [f"u{n}@example.com"]) for n in range(2, 7))
    path = workbooks.write_xlsx(
        tmp_path / "upload.xlsx", workbooks.sheet(HEADER_ROW + rows)
    )

    assert len(read_file(path, tmp_path, limits(max_rows=5)).rows) == 5
    with pytest.raises(LimitExceeded) as raised:
        read_file(path, tmp_path, limits(max_rows=4))

    assert "import_max_rows" in raised.value.message


XML_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(" \t\n\u00a0&<>\"'éœ€;,"),
        st.characters(exclude_categories=["Cs", "Cc", "Cn", "Co"]),
    ),
    min_size=1,
    max_size=10,
).filter(lambda text: not text.startswith("="))
CELL_VALUE = st.one_of(
    st.none(),
    XML_TEXT,
    st.booleans(),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
)


def expected_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        # openpyxl 3.1 writes numbers with "%.16g", one digit less than repr.
        written = float(f"{value:.16g}")
        return str(int(written)) if written.is_integer() else repr(written)
    return str(value)


def expected_rows(rows: list[list[object]]) -> list[SheetRow]:
    """Return the rows that the reader must give for data rows 2, 3, ... of a sheet."""
    expected = []
    for number, values in enumerate(rows, start=2):
        cells = [expected_cell(value) for value in values]
        while cells and cells[-1] == "":
            cells.pop()
        blank = all(
            isinstance(cell, str) and not cell.strip(" \t\u00a0\r\n") for cell in cells
        )
        if not blank:
            expected.append(SheetRow(number, tuple(cells)))
    return expected


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rows=st.lists(st.lists(CELL_VALUE, max_size=6), max_size=8))
def test_xlsx_openpyxl_round_trip(rows: list[list[object]], tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for column, name in enumerate(HEADER, start=1):
        sheet.cell(row=1, column=column, value=name)
    for number, values in enumerate(rows, start=2):
        for column, value in enumerate(values, start=1):
            sheet.cell(row=number, column=column, value=value)
    path = tmp_path / "upload.xlsx"
    workbook.save(path)

    result = read_file(path, tmp_path)

    assert result.header == SheetRow(1, HEADER)
    assert result.rows == expected_rows(rows)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rows=st.lists(st.lists(st.one_of(st.none(), XML_TEXT), max_size=6), max_size=8))
def test_xlsx_shared_strings_round_trip(
    rows: list[list[str | None]], tmp_path: Path
) -> None:
    texts: list[str] = []
    rows_xml = []
    for number, values in enumerate(rows, start=2):
        cells = []
        for column, value in enumerate(values):
            if value is not None:
                reference = f"{workbooks.column_name(column)}{number}"
                cells.append(f'<c r="{reference}" t="s"><v>{len(texts)}</v></c>')
                texts.append(value)
        rows_xml.append(f'<row r="{number}">{"".join(cells)}</row>')
    path = workbooks.write_xlsx(
        tmp_path / "upload.xlsx",
        workbooks.sheet(HEADER_ROW + "".join(rows_xml)),
        shared_strings_xml=workbooks.plain_shared_strings(texts),
    )

    result = read_file(path, tmp_path)

    assert result.rows == expected_rows([list(values) for values in rows])
