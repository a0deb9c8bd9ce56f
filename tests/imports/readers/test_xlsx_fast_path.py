"""The XLSX reader's scanners against expat's handlers: the same rows and errors.

Every workbook here is read twice, by ``XlsxReader`` as the service uses it
(``RowScanner`` and ``SharedStringScanner`` with expat for the rest) and with
``fast_path=False`` (expat's handlers for every element, the reader as it was
before the scanners). The two must give the same rows, or raise the same
error with the same message. The workbooks come from openpyxl, XlsxWriter, the
case files, and XML built by hand for the forms those writers never produce.
"""

from __future__ import annotations

import dataclasses
import random
import zipfile
from datetime import date, datetime, time
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl  # type: ignore[import-untyped]
import pytest
import xlsxwriter  # type: ignore[import-untyped]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maizeplus.imports.cells import SheetRow
from maizeplus.imports.errors import FileUnreadable
from maizeplus.imports.readers import ReadLimits
from maizeplus.imports.readers.xlsx_reader import XlsxReader
from tests.imports.readers import workbooks
from tests.imports.readers.support import DEFAULT_LIMITS, limits

DATA = Path(__file__).parents[2] / "data"
CASE_WORKBOOKS = sorted([*DATA.glob("cases/*.xlsx"), *DATA.glob("postman/*.xlsx")])

Outcome = list[SheetRow] | tuple[str, str]

EXAMPLES = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def read_records(
    path: Path, work_dir: Path, fast_path: bool, read_limits: ReadLimits
) -> Outcome:
    """Return every record of the first sheet, or the error's class and message."""
    try:
        with XlsxReader(path, read_limits, work_dir, fast_path=fast_path) as reader:
            return list(reader.records())
    except FileUnreadable as error:
        return type(error).__name__, error.message


def assert_same_records(
    path: Path, work_dir: Path, read_limits: ReadLimits = DEFAULT_LIMITS
) -> Outcome:
    scanned = read_records(path, work_dir, True, read_limits)
    parsed = read_records(path, work_dir, False, read_limits)

    if isinstance(scanned, list) and isinstance(parsed, list):
        for scanned_row, parsed_row in zip(scanned, parsed, strict=False):
            assert scanned_row == parsed_row
    assert scanned == parsed
    return scanned


@pytest.mark.parametrize("path", CASE_WORKBOOKS, ids=lambda path: path.name)
def test_case_workbook_same_records(path: Path, tmp_path: Path) -> None:
    assert_same_records(path, tmp_path)


def test_case_workbooks_found() -> None:
    names = {path.name for path in CASE_WORKBOOKS}

    assert "C22a-xml-billion-laughs.xlsx" in names
    assert "import-users.xlsx" in names
    assert len(names) >= 10


# Workbooks written by openpyxl (inline strings) and XlsxWriter (shared strings,
# or inline strings in its constant-memory mode).

# Text that both writers store as it is: XML's special characters, accents,
# emoji, tabs and line breaks, but no other control character (openpyxl
# rejects them and XlsxWriter writes them as _xHHHH_) and no leading "=".
WRITER_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(" \t\n\u00a0&<>\"';,.@éœ€ñÅ😀𝄞]"),
        st.characters(exclude_categories=["Cs", "Cc", "Cn", "Co"]),
    ),
    min_size=1,
    max_size=12,
).filter(lambda text: not text.startswith("="))
WRITER_VALUE = st.one_of(
    st.none(),
    WRITER_TEXT,
    st.booleans(),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(2100, 1, 1)),
    st.dates(min_value=date(1900, 3, 1), max_value=date(2100, 1, 1)),
    st.sampled_from(["=1+1", '=A1&"x"', "=SUM(B1:B3)"]),
)
WRITER_ROWS = st.lists(st.lists(WRITER_VALUE, max_size=8), min_size=1, max_size=12)


@EXAMPLES
@given(rows=WRITER_ROWS)
def test_openpyxl_workbook_same_records(
    rows: list[list[object]], tmp_path: Path
) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for number, values in enumerate(rows, start=1):
        for column, value in enumerate(values, start=1):
            sheet.cell(row=number, column=column, value=value)
    path = tmp_path / "openpyxl.xlsx"
    workbook.save(path)

    assert_same_records(path, tmp_path)


@EXAMPLES
@given(rows=WRITER_ROWS, constant_memory=st.booleans(), gap=st.integers(0, 3))
def test_xlsxwriter_workbook_same_records(
    rows: list[list[object]], constant_memory: bool, gap: int, tmp_path: Path
) -> None:
    path = tmp_path / "xlsxwriter.xlsx"
    workbook = xlsxwriter.Workbook(path, {"constant_memory": constant_memory})
    sheet = workbook.add_worksheet()
    date_format = workbook.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    text_format = workbook.add_format({"num_format": "@", "bold": True})
    for row_index, values in enumerate(rows):
        for column, value in enumerate(values):
            place = (row_index * (gap + 1), column)
            if isinstance(value, datetime | date):
                sheet.write_datetime(*place, value, date_format)
            elif isinstance(value, str) and value.startswith("="):
                sheet.write_formula(*place, value, None, "cached")
            elif value is not None:
                sheet.write(*place, value, text_format if column % 2 else None)
    workbook.close()

    assert_same_records(path, tmp_path)


# Worksheets built by hand, for the forms that the writers never produce.

NAMESPACE = workbooks.MAIN


# Markup whose content is text, not elements, as an opening and a closing.
MARKUP = [("<!-- ", " -->"), ("<![CDATA[ ", " ]]>"), ("<?pi ", " ?>")]

# Shared strings in each hand-built workbook; a hostile one refers to more.
SHARED_STRING_COUNT = 13

PLAIN_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(" \t\n\u00a0>\"';,.éœ€Å😀𝄞\u0085\u2028\ufeff\ufdd0\x7f"),
        st.characters(
            exclude_categories=["Cs", "Cc", "Cn"],
            exclude_characters="<&\ufffe\uffff",
        ),
    ),
    max_size=8,
)
# Pieces that expat reads but the scanners leave to it, or decode themselves.
VALID_ODDITIES = st.sampled_from(
    [
        "&amp;",
        "&lt;",
        "&gt;",
        "&quot;",
        "&apos;",
        "&#38;",
        "&#x26;",
        "&#233;",
        "&#xE9;",
        "&#x1F600;",
        "&#13;",
        "&#10;",
        "&#9;",
        "&#0000065;",
        "\r\n",
        "\r",
        "<![CDATA[a<b&c]]>",
        "<!-- note -->",
        "<?pi data?>",
    ]
)
# Pieces that make the part invalid XML.
INVALID_ODDITIES = st.sampled_from(
    [
        "&nbsp;",
        "&#1;",
        "&#X26;",
        "&#xFFFE;",
        "&#x110000;",
        "& ",
        "]]>",
        "\x01",
        "\ufffe",
        "\udcff",
    ]
)
VALID_TEXT = st.lists(st.one_of(*[PLAIN_TEXT] * 6, VALID_ODDITIES), max_size=4).map(
    "".join
)
HOSTILE_TEXT = st.lists(
    st.one_of(*[PLAIN_TEXT] * 6, VALID_ODDITIES, INVALID_ODDITIES), max_size=4
).map("".join)


@dataclasses.dataclass
class Layout:
    """How the XML of one hand-built workbook is spelled."""

    prefix: str
    quote: str
    shared_prefix: str
    text: st.SearchStrategy[str]
    max_string_index: int
    hostile: bool


SCANNED_KINDS = [
    "shared",
    "shared",
    "shared",
    "number",
    "number",
    "inline",
    "inline",
    "inline",
    "boolean",
    "error",
    "formula",
    "iso date",
    "empty",
]


@st.composite
def cell_xml(
    draw: st.DrawFn, layout: Layout, reference: str | None, usual: bool
) -> str:
    """Draw the XML of one cell: in a usual row, in a form that the scanner reads."""
    p, q = layout.prefix, layout.quote
    attributes = [] if reference is None else [f"r={q}{reference}{q}"]
    style = draw(st.sampled_from([None, "0", "1", "2", "01"]))
    if style is not None:
        attributes.append(f"s={q}{style}{q}")

    kind = draw(
        st.sampled_from(SCANNED_KINDS if usual else [*SCANNED_KINDS, "rich", "other"])
    )
    if kind == "shared":
        index = draw(st.integers(0, layout.max_string_index))
        cell_type, body = "s", f"<{p}v>{index}</{p}v>"
    elif kind == "number":
        number = draw(
            st.one_of(
                st.integers(-(10**20), 10**20).map(str),
                st.floats(allow_nan=False, allow_infinity=False).map(repr),
                st.sampled_from(["007", "-0", "1E3", "1.5e-3", " 12 ", "12345.0", ""]),
                st.sampled_from(["45632", "45632.5", "0.25", "x"]),
            )
        )
        cell_type = draw(st.sampled_from([None, "n"]))
        body = f"<{p}v>{number}</{p}v>"
    elif kind == "inline":
        space = draw(st.sampled_from(["", ' xml:space="preserve"']))
        cell_type = "inlineStr"
        body = f"<{p}is><{p}t{space}>{draw(layout.text)}</{p}t></{p}is>"
    elif kind == "boolean":
        value = draw(st.sampled_from(["0", "1", "true", " 1 ", "x", ""]))
        cell_type, body = "b", f"<{p}v>{value}</{p}v>"
    elif kind == "error":
        cell_type, body = (
            "e",
            f"<{p}v>{draw(st.sampled_from(['#N/A', '#DIV/0!']))}</{p}v>",
        )
    elif kind == "formula":
        formula = draw(
            st.sampled_from(
                [
                    f"<{p}f>A1&amp;{q}x{q}</{p}f>",
                    f'<{p}f t="shared" ref="A1:A3" si="0"/>',
                    f'<{p}f t="shared" si="0" />',
                    f"<{p}f>1+1</{p}f>",
                    f'<{p}f t="array" ref="A1">1</{p}f>',
                    f'<{p}f t="array" t="array">1</{p}f>'
                    if layout.hostile
                    else f"<{p}f>2</{p}f>",
                ]
            )
        )
        value = draw(
            st.sampled_from(["", f"<{p}v>{draw(layout.text)}</{p}v>", f"<{p}v/>"])
        )
        cell_type = draw(st.sampled_from([None, "str"]))
        body = formula + value
    elif kind == "iso date":
        value = draw(
            st.sampled_from(["2025-12-03T00:00:00", "1900-01-01", "12:00:00", "nope"])
        )
        cell_type, body = "d", f"<{p}v>{value}</{p}v>"
    elif kind == "empty":
        cell_type = draw(st.sampled_from([None, "s", "inlineStr", "n"]))
        body = draw(st.sampled_from(["", None, f"<{p}v></{p}v>", f"<{p}v />"]))
    elif kind == "rich":
        cell_type = "inlineStr"
        body = (
            f"<{p}is><{p}r><{p}t>{draw(layout.text)}</{p}t></{p}r>"
            f"<{p}r><{p}rPr><{p}b/></{p}rPr><{p}t>{draw(layout.text)}</{p}t></{p}r>"
            f'<{p}rPh sb="0" eb="1"><{p}t>{draw(layout.text)}</{p}t></{p}rPh></{p}is>'
        )
    else:
        cell_type = draw(st.sampled_from(["s", "str", None]))
        body = draw(
            st.sampled_from(
                [
                    f"<{p}v>1</{p}v><{p}v>2</{p}v>",
                    f"<{p}v>3</{p}v><{p}is><{p}t>4</{p}t></{p}is>",
                    f"<{p}extLst/><{p}v>5</{p}v>",
                    f"\n<{p}v>6</{p}v>\n",
                    f"<{p}v>7</{p}v><!-- c -->",
                    f"<{p}v><![CDATA[8]]></{p}v>",
                ]
            )
        )
        attributes.append(draw(st.sampled_from(['cm="1"', "", "t2='x'"])))

    if cell_type is not None:
        attributes.append(f"t={q}{cell_type}{q}")
    attributes = [attribute for attribute in attributes if attribute]
    if not usual and draw(st.booleans()):
        attributes = draw(st.permutations(attributes))
    opening = f"<{p}c{''.join(' ' + attribute for attribute in attributes)}"
    if body is None:
        return opening + draw(st.sampled_from(["/>", " />"]))
    return f"{opening}>{body}</{p}c>"


@st.composite
def row_xml(draw: st.DrawFn, layout: Layout, number: int) -> str:
    """Draw one row, most often in the usual form, sometimes in unusual ones."""
    p, q = layout.prefix, layout.quote
    usual = draw(st.integers(0, 3)) > 0
    numbered = usual or draw(st.booleans())
    references = usual or draw(st.booleans())
    columns = sorted(draw(st.sets(st.integers(0, 30), max_size=6)))
    if not usual and draw(st.booleans()):
        columns = draw(st.permutations(columns))

    cells = [
        draw(
            cell_xml(
                layout,
                f"{workbooks.column_name(column)}{number}" if references else None,
                usual,
            )
        )
        for column in columns
    ]
    separator = "" if usual else draw(st.sampled_from(["", "\n", " ", "<!-- x -->"]))

    attributes = [f"r={q}{number}{q}"] if numbered else []
    attributes += draw(
        st.sampled_from(
            [
                [],
                [f"spans={q}1:12{q}"],
                [f"spans={q}1:12{q}", 'x14ac:dyDescent="0.25"'],
                ['customFormat="1"', 'ht="12.8"'],
                [f"r={q}{number}{q}"] if layout.hostile else [],
            ]
        )
    )
    opening = f"<{p}row{''.join(' ' + attribute for attribute in attributes)}"
    if not cells and draw(st.booleans()):
        return opening + "/>"
    return f"{opening}>{separator.join(cells)}</{p}row>"


@st.composite
def hand_built_workbook(
    draw: st.DrawFn,
) -> tuple[str, str, str]:
    """Draw a worksheet, its shared strings and its styles, as XML text."""
    prefix = draw(st.sampled_from(["", "", "x:"]))
    hostile = draw(st.integers(0, 4)) == 0
    layout = Layout(
        prefix=prefix,
        quote=draw(st.sampled_from(['"', '"', '"', "'"])),
        shared_prefix=draw(st.sampled_from(["", "", "ss:"])),
        text=HOSTILE_TEXT if hostile else VALID_TEXT,
        max_string_index=SHARED_STRING_COUNT + (5 if hostile else -1),
        hostile=hostile,
    )
    number = 0
    rows = []
    for _ in range(draw(st.integers(0, 12))):
        number += draw(st.integers(1, 3))
        rows.append(draw(row_xml(layout, number)))
    padding_rows = draw(st.sampled_from([0, 0, 50, 900, 2500]))
    padding = padding_xml(layout, number + 1, padding_rows)
    position = draw(st.integers(0, len(rows)))
    rows = [*rows[:position], padding, *rows[position:]]
    rows_xml = "".join(draw(enclosed_in_markup(rows)))

    p = layout.prefix
    declaration = draw(st.sampled_from([workbooks.XML_DECLARATION, ""]))
    namespace = f"xmlns:{p[:-1]}" if p else "xmlns"
    before = draw(
        st.sampled_from(
            [
                "",
                f'<{p}dimension ref="A1:C3"/>',
                "<!-- <sheetData> -->",
                f"<{p}sheetViews><{p}sheetView workbookViewId='0'/></{p}sheetViews>",
                "<!--"
                + "long comment " * draw(st.sampled_from([1, 400, 5100]))
                + "-->",
            ]
        )
    )
    after = draw(
        st.sampled_from(
            [
                "",
                f'<{p}mergeCells count="1"><{p}mergeCell ref="A1:B1"/></{p}mergeCells>',
                "<!-- </row> -->",
                f"<{p}row r='9999'/>",
            ]
        )
    )
    sheet = (
        f'{declaration}<{p}worksheet {namespace}="{NAMESPACE}">{before}'
        f"<{p}sheetData>{rows_xml}</{p}sheetData>{after}</{p}worksheet>"
    )
    return sheet, draw(shared_strings_xml(layout)), STYLES


def padding_xml(layout: Layout, first_number: int, count: int) -> str:
    """Return ``count`` usual rows: shared, inline and number cells, multi-line text."""
    p = layout.prefix
    rows = []
    for number in range(first_number, first_number + count):
        rows.append(
            f'<{p}row r="{number}" spans="1:4">'
            f'<{p}c r="A{number}" t="s"><{p}v>{number % 5}</{p}v></{p}c>'
            f'<{p}c r="B{number}" t="inlineStr"><{p}is><{p}t>line {number}\n'
            f"é😀</{p}t></{p}is></{p}c>"
            f'<{p}c r="D{number}" s="1"><{p}v>{number}</{p}v></{p}c></{p}row>'
        )
    return "".join(rows)


@st.composite
def enclosed_in_markup(draw: st.DrawFn, items: list[str]) -> list[str]:
    """Sometimes put a run of the items in a comment, CDATA section or PI."""
    if not items or draw(st.integers(0, 3)) > 0:
        return items
    first = draw(st.integers(0, len(items) - 1))
    last = draw(st.integers(first, len(items) - 1))
    opening, closing = draw(st.sampled_from(MARKUP))
    enclosed = list(items)
    enclosed[first] = opening + enclosed[first]
    enclosed[last] = enclosed[last] + closing
    return enclosed


@st.composite
def shared_strings_xml(draw: st.DrawFn, layout: Layout) -> str:
    p = layout.shared_prefix
    items = []
    for _ in range(SHARED_STRING_COUNT):
        text = draw(layout.text)
        item = draw(
            st.sampled_from(
                [
                    f"<{p}t>{text}</{p}t>",
                    f"<{p}t>{text}</{p}t>",
                    f'<{p}t xml:space="preserve">{text}</{p}t>',
                    f"<{p}r><{p}t>{text}</{p}t></{p}r><{p}r><{p}t>b</{p}t></{p}r>",
                    f'<{p}t>{text}</{p}t><{p}rPh sb="0" eb="1"><{p}t>x</{p}t></{p}rPh>',
                    f"<{p}t/>",
                ]
            )
        )
        separator = draw(st.sampled_from(["", "", "", "\n", "<!-- s -->"]))
        items.append(f"{separator}<{p}si>{item}</{p}si>")
    items = draw(enclosed_in_markup(items))
    namespace = f"xmlns:{p[:-1]}" if p else "xmlns"
    return (
        f'{workbooks.XML_DECLARATION}<{p}sst {namespace}="{NAMESPACE}" '
        f'count="{len(items)}">{"".join(items)}</{p}sst>'
    )


STYLES = workbooks.styles([0, 14, 2], {})


def to_bytes(xml: str) -> bytes:
    """Encode as UTF-8, a lone surrogate U+DC80 to U+DCFF as an invalid byte."""
    return xml.encode("utf-8", "surrogateescape")


@EXAMPLES
@given(
    parts=hand_built_workbook(),
    max_columns=st.sampled_from([200, 200, 4]),
    max_cell_chars=st.sampled_from([1_000, 1_000, 3]),
    date1904=st.booleans(),
)
def test_hand_built_workbook_same_records(
    parts: tuple[str, str, str],
    max_columns: int,
    max_cell_chars: int,
    date1904: bool,
    tmp_path: Path,
) -> None:
    sheet, strings, styles = parts
    path = workbooks.write_xlsx(
        tmp_path / "hand-built.xlsx",
        to_bytes(sheet),
        shared_strings_xml=to_bytes(strings),
        styles_xml=styles,
        workbook_xml=workbooks.workbook(date1904=date1904),
    )
    read_limits = limits(max_columns=max_columns, max_cell_chars=max_cell_chars)

    assert_same_records(path, tmp_path, read_limits)


# Cases that the random workbooks reach rarely, written out.


def write_sheet(
    tmp_path: Path, rows_xml: str, strings: list[str] | None = None, prefix: str = ""
) -> Path:
    shared = None if strings is None else workbooks.plain_shared_strings(strings)
    return workbooks.write_xlsx(
        tmp_path / "sheet.xlsx",
        workbooks.sheet(rows_xml, prefix=prefix),
        shared_strings_xml=shared,
        styles_xml=STYLES,
    )


def usual_rows(first: int, count: int, text: str = "name") -> str:
    return "".join(
        f'<row r="{number}"><c r="A{number}" t="s"><v>0</v></c>'
        f'<c r="B{number}" t="inlineStr"><is><t>{escape(text)}</t></is></c></row>'
        for number in range(first, first + count)
    )


@pytest.mark.parametrize(
    "broken",
    [
        '<row r="9000"><c r="A9000"><v>1</v></row>',
        '<row r="9000"><c r="A9000" t="inlineStr"><is><t>&bad;</t></is></c></row>',
        '<row r="9000" r="9000"></row>',
        '<row r="9000"><c r="A9000" t="inlineStr"><is><t>\x01</t></is></c></row>',
        "<row r='9000'><!DOCTYPE x></row>",
    ],
)
def test_xml_error_after_scanned_rows(broken: str, tmp_path: Path) -> None:
    # Rows with line breaks and characters of several bytes precede the error,
    # so its line and column are right only if the skipped rows are counted.
    rows = usual_rows(2, 3000, "Zoë\nÅngström 😀")
    path = write_sheet(tmp_path, rows + broken + usual_rows(9001, 5), ["a"])

    outcome = assert_same_records(path, tmp_path)

    assert isinstance(outcome, tuple)
    assert "not valid XML" in outcome[1]
    assert "line 3002" in outcome[1]


def test_truncated_sheet_after_scanned_rows(tmp_path: Path) -> None:
    rows = usual_rows(2, 2000, "Zoë")
    sheet = workbooks.sheet(rows).replace("</worksheet>", "")
    path = workbooks.write_xlsx(
        tmp_path / "cut.xlsx",
        sheet,
        shared_strings_xml=workbooks.plain_shared_strings(["a"]),
    )

    outcome = assert_same_records(path, tmp_path)

    assert isinstance(outcome, tuple)
    assert "no element found" in outcome[1]


def test_missing_string_after_scanned_rows(tmp_path: Path) -> None:
    broken = '<row r="5000"><c r="A5000" t="s"><v>7</v></c></row>'
    path = write_sheet(tmp_path, usual_rows(2, 3000) + broken, ["a"])

    outcome = assert_same_records(path, tmp_path)

    assert outcome == (
        "FileUnreadable",
        "The worksheet xl/worksheets/sheet1.xml is damaged: a cell in row 5000 "
        "refers to the missing shared string '7'. Open the file in Excel and "
        "save it again.",
    )


def test_unnumbered_rows_after_scanned_rows(tmp_path: Path) -> None:
    unnumbered = '<row><c t="inlineStr"><is><t>x</t></is></c><c><v>1</v></c></row>'
    rows = usual_rows(2, 3) + unnumbered + unnumbered + usual_rows(10, 2)
    path = write_sheet(tmp_path, rows, ["a"])

    outcome = assert_same_records(path, tmp_path)

    assert isinstance(outcome, list)
    assert [row.number for row in outcome] == [2, 3, 4, 5, 6, 10, 11]
    assert outcome[3].cells == ("x", "1")


def test_row_larger_than_pending_limit(tmp_path: Path) -> None:
    big = "é" * 700_000
    rows = usual_rows(2, 5) + usual_rows(7, 1, big) + usual_rows(8, 5)
    path = write_sheet(tmp_path, rows, ["a"])

    read_limits = limits(max_cell_chars=2_000_000, xlsx_max_compression_ratio=1_000_000)

    outcome = assert_same_records(path, tmp_path, read_limits)

    assert isinstance(outcome, list)
    assert outcome[5].cells == ("a", big)


def test_prefixed_sheet_scanned(tmp_path: Path) -> None:
    rows = "".join(
        f'<x:row r="{number}"><x:c r="A{number}" t="s"><x:v>0</x:v></x:c>'
        f'<x:c r="C{number}"><x:v>{number}.0</x:v></x:c></x:row>'
        for number in range(1, 500)
    )
    path = write_sheet(tmp_path, rows, ["a"], prefix="x:")

    outcome = assert_same_records(path, tmp_path)

    assert isinstance(outcome, list)
    assert outcome[4] == SheetRow(5, ("a", "", "5"))


def test_sheet_in_latin1_read_by_expat(tmp_path: Path) -> None:
    sheet = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>'
        f'<worksheet xmlns="{NAMESPACE}"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>Zo\xeb</t></is></c></row>'
        "</sheetData></worksheet>"
    ).encode("latin-1")
    path = workbooks.write_xlsx(tmp_path / "latin1.xlsx", sheet)

    outcome = assert_same_records(path, tmp_path)

    assert outcome == [SheetRow(1, ("Zoë",))]


def test_shared_strings_with_entities_and_runs(tmp_path: Path) -> None:
    items = (
        "<si><t>plain</t></si><si><t>R&amp;D &#233;</t></si>"
        "<si><r><t>ri</t></r><r><t>ch</t></r></si><si><t>line\r\nbreak</t></si>"
        '<si><t xml:space="preserve"> kept </t></si>'
    )
    strings = f'<sst xmlns="{NAMESPACE}">{items}</sst>'
    row = "".join(
        f'<c r="{letter}1" t="s"><v>{index}</v></c>'
        for index, letter in enumerate("ABCDE")
    )
    path = workbooks.write_xlsx(
        tmp_path / "strings.xlsx",
        workbooks.sheet(f'<row r="1">{row}</row>'),
        shared_strings_xml=strings,
    )

    outcome = assert_same_records(path, tmp_path)

    assert outcome == [SheetRow(1, ("plain", "R&D é", "rich", "line\nbreak", " kept "))]


def test_dates_in_both_systems(tmp_path: Path) -> None:
    rows = (
        '<row r="1"><c r="A1" s="1"><v>44170</v></c><c r="B1" s="1"><v>x</v></c></row>'
    )
    for date1904 in (False, True):
        path = workbooks.write_xlsx(
            tmp_path / f"dates-{date1904}.xlsx",
            workbooks.sheet(rows),
            styles_xml=STYLES,
            workbook_xml=workbooks.workbook(date1904=date1904),
        )

        outcome = assert_same_records(path, tmp_path)

        assert isinstance(outcome, list)
        assert outcome[0].cells[1] == "x"


def test_times_and_dates_from_openpyxl(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append([datetime(2024, 1, 2, 3, 4, 5), date(2024, 1, 2), time(12, 30)])
    path = tmp_path / "dates.xlsx"
    workbook.save(path)

    outcome = assert_same_records(path, tmp_path)

    assert isinstance(outcome, list)
    assert len(outcome[0].cells) == 3


def test_shared_strings_over_many_chunks(tmp_path: Path) -> None:
    # 40,000 strings span many 64 KiB chunks of the shared strings part.
    strings = [f"user{index}@example.com" for index in range(40_000)]
    rows = "".join(
        f'<row r="{number}"><c r="A{number}" t="s"><v>{number * 7}</v></c></row>'
        for number in range(1, 5000)
    )
    path = write_sheet(tmp_path, rows, strings)

    outcome = assert_same_records(path, tmp_path)

    assert isinstance(outcome, list)
    assert outcome[-1] == SheetRow(4999, ("user34993@example.com",))


def test_sheet_data_split_between_chunks(tmp_path: Path) -> None:
    # The archive yields chunks of 64 KiB, and <sheetData> spans the first
    # boundary.
    head = f'<worksheet xmlns="{NAMESPACE}">'
    filler = "<!--" + "x" * (65_536 - len(head) - 4 - 7 - 3) + "-->"
    sheet = f"{head}{filler}<sheetData>{usual_rows(1, 50)}</sheetData></worksheet>"
    assert sheet.index("<sheetData>") < 65_536 < sheet.index("<sheetData>") + 11
    path = workbooks.write_xlsx(
        tmp_path / "split.xlsx",
        sheet,
        shared_strings_xml=workbooks.plain_shared_strings(["a"]),
    )

    outcome = assert_same_records(path, tmp_path)

    assert isinstance(outcome, list)
    assert len(outcome) == 50


def test_stored_entry_same_records(tmp_path: Path) -> None:
    path = workbooks.write_xlsx(
        tmp_path / "stored.xlsx",
        workbooks.sheet(usual_rows(1, 3000)),
        shared_strings_xml=workbooks.plain_shared_strings(["a"]),
        compression=zipfile.ZIP_STORED,
    )

    outcome = assert_same_records(path, tmp_path)

    assert isinstance(outcome, list)
    assert len(outcome) == 3000


def test_duplicate_attribute_rejected(tmp_path: Path) -> None:
    row = '<row r="2"><c r="A2" t="s" t="s"><v>0</v></c></row>'
    path = write_sheet(tmp_path, usual_rows(1, 1) + row, ["a"])

    outcome = assert_same_records(path, tmp_path)

    assert isinstance(outcome, tuple)
    assert "duplicate attribute" in outcome[1]


def test_unusual_row_number_same_error(tmp_path: Path) -> None:
    path = write_sheet(tmp_path, usual_rows(1, 2) + '<row r="0x1"></row>', ["a"])

    outcome = assert_same_records(path, tmp_path)

    assert isinstance(outcome, tuple)
    assert "invalid number '0x1'" in outcome[1]


TEXT_PIECES = [
    "plain",
    "&amp;&lt;&gt;&quot;&apos;",
    "&#38;&#x26;&#233;&#xE9;&#x1F600;&#0000065;",
    "a&#13;b&#10;c&#9;d",
    "a\r\nb",
    "a\rb",
    "a\nb\tc",
    "<![CDATA[a<b&c]]>",
    "a<!-- note -->b",
    "a<?pi data?>b",
    "&nbsp;",
    "&#1;",
    "&#X26;",
    "&#xFFFE;",
    "&#x110000;",
    "&#99999999999999999999;",
    "&#" + "1" * 5000 + ";",
    "& ",
    "&amp",
    "a]]>b",
    "a]]b>",
    "\x01",
    "\x7f\u0085\u2028\ufeff\ufdd0",
    "\ufffe",
    "\uffff",
    "\udcff",
    "\udcc3\udca9",
    "é😀𝄞",
]


@pytest.mark.parametrize("text", TEXT_PIECES)
@pytest.mark.parametrize("where", ["inline", "formula value", "shared string"])
def test_text_piece_same_records(text: str, where: str, tmp_path: Path) -> None:
    if where == "inline":
        cell = f'<c r="B3" t="inlineStr"><is><t>{text}</t></is></c>'
    elif where == "formula value":
        cell = f'<c r="B3" t="str"><f>A1&amp;"x"</f><v>{text}</v></c>'
    else:
        cell = '<c r="B3" t="s"><v>1</v></c>'
    row = f'<row r="3"><c r="A3" t="s"><v>0</v></c>{cell}</row>'
    shared_text = text if where == "shared string" else "second"
    strings = (
        f'<sst xmlns="{NAMESPACE}"><si><t>first</t></si>'
        f"<si><t>{shared_text}</t></si><si><t>last</t></si></sst>"
    )
    path = workbooks.write_xlsx(
        tmp_path / "text.xlsx",
        to_bytes(workbooks.sheet(usual_rows(1, 2) + row + usual_rows(4, 2))),
        shared_strings_xml=to_bytes(strings),
    )

    assert_same_records(path, tmp_path)


@pytest.mark.parametrize("separator", ["\r", "\r\n", "]", "\n\r"])
def test_error_after_string_separator(separator: str, tmp_path: Path) -> None:
    # Expat holds back a final CR or "]" until it reads what follows, so the
    # scanner must not read the next items before expat has read them.
    plain = "".join(f"<si><t>item {index}\nZoë</t></si>" for index in range(3000))
    items = f"<si><t>a</t></si>{separator}<si><t>b</t></si>{plain}<si><t>&bad;</t></si>"
    strings = f'<sst xmlns="{NAMESPACE}">{items}</sst>'
    path = workbooks.write_xlsx(
        tmp_path / "strings.xlsx",
        workbooks.sheet(usual_rows(1, 2)),
        shared_strings_xml=strings,
    )

    outcome = assert_same_records(path, tmp_path)

    assert isinstance(outcome, tuple)
    assert "undefined entity" in outcome[1]


@pytest.mark.parametrize(("opening", "closing"), MARKUP)
def test_markup_between_rows(opening: str, closing: str, tmp_path: Path) -> None:
    # The rows inside the comment, CDATA section or processing instruction
    # are text, and the scanner must not read them as rows.
    rows = usual_rows(1, 10) + opening + usual_rows(70, 50) + closing
    path = write_sheet(tmp_path, rows + usual_rows(120, 200), ["a"])

    outcome = assert_same_records(path, tmp_path)

    assert isinstance(outcome, list)
    assert [row.number for row in outcome[9:11]] == [10, 120]


@pytest.mark.parametrize(("opening", "closing"), MARKUP)
def test_markup_inside_row(opening: str, closing: str, tmp_path: Path) -> None:
    row = f'<row r="11"><c r="A11" t="s"><v>0</v></c>{opening}</row>'
    rows = usual_rows(1, 10) + row + usual_rows(70, 50) + f"{closing}</row>"
    path = write_sheet(tmp_path, rows + usual_rows(120, 200), ["a"])

    outcome = assert_same_records(path, tmp_path)

    assert isinstance(outcome, list)
    assert [row.number for row in outcome[9:12]] == [10, 11, 120]


@pytest.mark.parametrize(("opening", "closing"), MARKUP)
def test_markup_around_strings(opening: str, closing: str, tmp_path: Path) -> None:
    # The markup starts once inside an item and once between two items.
    plain = "".join(f"<si><t>item {index}</t></si>" for index in range(3000))
    items = f"<si><t>a</t></si><si><t>b{opening}</t></si>{plain}{closing}</t></si>"
    items += f"<si><t>c</t></si>{opening}{plain}{closing}{plain}<si><t>z</t></si>"
    strings = f'<sst xmlns="{NAMESPACE}">{items}</sst>'
    # Index 3003 is "z" only if no item inside the markup counts.
    cells = "".join(
        f'<c r="{letter}1" t="s"><v>{index}</v></c>'
        for letter, index in zip("ABCD", [0, 1, 2, 3003], strict=True)
    )
    path = workbooks.write_xlsx(
        tmp_path / "strings.xlsx",
        workbooks.sheet(f'<row r="1">{cells}</row>'),
        shared_strings_xml=strings,
    )

    outcome = assert_same_records(path, tmp_path)

    assert isinstance(outcome, list)
    assert outcome[0].cells[0] == "a"
    assert outcome[0].cells[3] == "z"


def test_large_unnumbered_row_number(tmp_path: Path) -> None:
    # Expat reads a row larger than the scanner's buffer, and its number
    # follows that of the last row the scanner read.
    big = "".join(random_letters(1_200_000))
    large = f'<row><c r="A1" t="inlineStr"><is><t>{big}</t></is></c></row>'
    rows = usual_rows(1, 20) + large + usual_rows(30, 5)
    path = write_sheet(tmp_path, rows, ["a"])
    read_limits = limits(max_cell_chars=2_000_000)

    outcome = assert_same_records(path, tmp_path, read_limits)

    assert isinstance(outcome, list)
    assert outcome[20].number == 21


def test_stray_cell_after_rows_same_error(tmp_path: Path) -> None:
    tail = '<c r="A1" t="s"><v>99</v></c>'
    sheet = workbooks.sheet(usual_rows(1, 20)).replace(
        "</sheetData>", f"</sheetData>{tail}"
    )
    path = workbooks.write_xlsx(
        tmp_path / "stray.xlsx",
        sheet,
        shared_strings_xml=workbooks.plain_shared_strings(["a"]),
    )

    outcome = assert_same_records(path, tmp_path)

    assert isinstance(outcome, tuple)
    assert "a cell in row 20 refers to the missing shared string '99'" in outcome[1]


def random_letters(count: int) -> list[str]:
    """Return letters that do not compress a hundred times, as a ZIP bomb would."""
    generator = random.Random(count)
    return generator.choices("abcdefghijklmnopqrstuvwxyzéø", k=count)


def test_many_distinct_strings_same_records(tmp_path: Path) -> None:
    # More distinct strings than the scanner's cache keeps, so that it empties
    # the cache and releases the table's pages, then reads them again.
    count = 40_000
    strings = [f"user{index}@example.com" for index in range(count)]
    rows = "".join(
        f'<row r="{number}"><c r="A{number}" t="s"><v>{number - 1}</v></c>'
        f'<c r="B{number}" t="s"><v>{(number * 7) % 100}</v></c></row>'
        for number in range(1, count + 1)
    )
    path = write_sheet(tmp_path, rows, strings)

    outcome = assert_same_records(path, tmp_path)

    assert isinstance(outcome, list)
    assert outcome[-1] == SheetRow(count, (strings[-1], strings[(count * 7) % 100]))
