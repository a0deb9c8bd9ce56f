"""The CSV reader: encodings, separators, quoting, line numbers and limits."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maizeplus.imports.cells import SheetRow
from maizeplus.imports.errors import FileUnreadable, LimitExceeded
from maizeplus.imports.readers import open_sheet
from maizeplus.imports.readers.csv_reader import choose_separator
from tests.imports.readers.support import (
    DEFAULT_LIMITS,
    HEADER,
    ReadResult,
    limits,
    read_file,
)

HEADER_LINE = ";".join(HEADER)
ROW = "anna.verdi@example.com;;Anna;Verdi;true;it;IT"
LINE_BREAK = re.compile(r"\r\n|\r|\n")
BLANK = " \t\u00a0\r\n"


def read_bytes(content: bytes, tmp_path: Path, **changed_limits: int) -> ReadResult:
    path = tmp_path / "upload"
    path.write_bytes(content)
    return read_file(path, tmp_path, limits(**changed_limits))


def read_text(text: str, tmp_path: Path, encoding: str = "utf-8") -> ReadResult:
    return read_bytes(text.encode(encoding), tmp_path)


def test_csv_utf16_le_with_bom(tmp_path: Path) -> None:
    text = f"\ufeff{HEADER_LINE}\r\nnicolò@example.com;;Nicolò;Ferri\r\n"

    result = read_text(text, tmp_path, "utf-16-le")

    assert result.encoding == "utf-16-le"
    assert result.header == SheetRow(1, HEADER)
    assert result.rows == [SheetRow(2, ("nicolò@example.com", "", "Nicolò", "Ferri"))]


def test_csv_utf16_be_with_bom(tmp_path: Path) -> None:
    text = f"\ufeff{HEADER_LINE}\nzoë@example.org;;Zoë\n"

    result = read_text(text, tmp_path, "utf-16-be")

    assert result.encoding == "utf-16-be"
    assert result.rows == [SheetRow(2, ("zoë@example.org", "", "Zoë"))]


def test_csv_utf16_odd_length_unreadable(tmp_path: Path) -> None:
    content = f"\ufeff{HEADER_LINE}\n".encode("utf-16-le") + b"a"

    with pytest.raises(FileUnreadable) as raised:
        read_bytes(content, tmp_path)

    assert "utf-16-le" in raised.value.message


def test_csv_utf8_bom_with_invalid_bytes(tmp_path: Path) -> None:
    content = b"\xef\xbb\xbf" + HEADER_LINE.encode() + b"\nJos\xe9;;\n"

    with pytest.raises(FileUnreadable) as raised:
        read_bytes(content, tmp_path)

    assert "utf-8-sig" in raised.value.message


def test_csv_late_cp1252_byte(tmp_path: Path) -> None:
    # The only non-UTF-8 byte comes after 2 MiB: the encoding is still chosen
    # before the first row is read, for the whole file.
    filler = "".join(f"user{i}@example.com;;Anna;Verdi\n" for i in range(80_000))
    content = f"{HEADER_LINE}\n{filler}".encode() + b"late@example.com;;D\x92Arcy\n"
    assert len(content) > 2 * 2**20
    path = tmp_path / "upload"
    path.write_bytes(content)

    with open_sheet(path, DEFAULT_LIMITS, tmp_path) as sheet:
        assert sheet.encoding == "cp1252"
        rows = list(sheet.rows)

    assert rows[0] == SheetRow(2, ("user0@example.com", "", "Anna", "Verdi"))
    assert rows[-1] == SheetRow(80_002, ("late@example.com", "", "D\u2019Arcy"))


def test_csv_undefined_cp1252_byte(tmp_path: Path) -> None:
    content = HEADER_LINE.encode() + b"\nx@example.com;;\x81\xe9\n"

    with pytest.raises(FileUnreadable) as raised:
        read_bytes(content, tmp_path)

    assert "Windows-1252" in raised.value.message


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (HEADER_LINE, ";"),
        (",".join(HEADER), ","),
        ("\t".join(HEADER), "\t"),
        (" Email , First_Name ,LAST_NAME", ","),
        ("email\tfirst_name\tdepartment", "\t"),
        ("email", ";"),
        ("email,name", ";"),
        ("email;first,name", ";"),
        ("a,b,c", ";"),
    ],
)
def test_csv_separator_choice(header: str, expected: str) -> None:
    assert choose_separator(header + "\r\n") == expected


def test_csv_tab_separated(tmp_path: Path) -> None:
    result = read_text("\t".join(HEADER) + "\nanna@example.com\t\tAnna\n", tmp_path)

    assert result.separator == "\t"
    assert result.rows == [SheetRow(2, ("anna@example.com", "", "Anna"))]


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_csv_line_endings(ending: str, tmp_path: Path) -> None:
    text = ending.join([HEADER_LINE, ROW, "", '"multi', 'line";x', ROW]) + ending

    result = read_text(text, tmp_path)

    assert result.header == SheetRow(1, HEADER)
    assert result.numbers() == [2, 4, 6]
    assert result.row(4) == (f"multi{ending}line", "x")
    assert not any(isinstance(cell, str) and "\r" in cell for cell in result.row(2))


def test_csv_last_line_without_ending(tmp_path: Path) -> None:
    result = read_text(f"{HEADER_LINE}\n{ROW}", tmp_path)

    assert result.numbers() == [2]
    assert result.row(2)[-1] == "IT"


def test_csv_header_only(tmp_path: Path) -> None:
    result = read_text(HEADER_LINE + "\r\n", tmp_path)

    assert result.header == SheetRow(1, HEADER)
    assert result.rows == []


def test_csv_bom_only(tmp_path: Path) -> None:
    result = read_bytes(b"\xef\xbb\xbf", tmp_path)

    assert result.header == SheetRow(1, ())
    assert result.rows == []


def test_csv_blank_first_line_empty_header(tmp_path: Path) -> None:
    result = read_text(f"\n{HEADER_LINE}\n{ROW}\n", tmp_path)

    assert result.header == SheetRow(1, ())
    assert result.numbers() == [2, 3]


def test_csv_blank_rows_skipped(tmp_path: Path) -> None:
    text = f'{HEADER_LINE}\n;;;\n \t; \u00a0\n\n"";\n{ROW}\n'

    result = read_text(text, tmp_path)

    assert result.numbers() == [6]


def test_csv_unclosed_quote(tmp_path: Path) -> None:
    with pytest.raises(FileUnreadable) as raised:
        read_text(
            f'{HEADER_LINE}\n{ROW}\nx@example.com;;"Anna;Verdi\n{ROW}\n', tmp_path
        )

    assert "line 3" in raised.value.message
    assert "quote" in raised.value.message


def test_csv_stray_quote_kept(tmp_path: Path) -> None:
    result = read_text(f'{HEADER_LINE}\nx@example.com;;An"na;O"Neil\n', tmp_path)

    assert result.row(2) == ("x@example.com", "", 'An"na', 'O"Neil')


def test_csv_nul_after_head_kept(tmp_path: Path) -> None:
    # Detection rejects a NUL in the first 8 KiB as binary data. Later, it is kept.
    filler = f"{ROW}\n" * 200

    result = read_text(f"{HEADER_LINE}\n{filler}x@example.com;;An\x00na\n", tmp_path)

    assert result.rows[-1] == SheetRow(202, ("x@example.com", "", "An\x00na"))


def test_csv_max_rows(tmp_path: Path) -> None:
    text = HEADER_LINE + "\n" + f"{ROW}\n\n" * 4

    assert read_bytes(text.encode(), tmp_path, max_rows=4).numbers() == [2, 4, 6, 8]
    with pytest.raises(LimitExceeded) as raised:
        read_bytes(text.encode(), tmp_path, max_rows=3)

    assert "import_max_rows" in raised.value.message
    assert "3" in raised.value.message


def test_csv_max_columns(tmp_path: Path) -> None:
    wide = ";".join(["x"] * 13)

    trailing = read_bytes(
        f"{HEADER_LINE}\n{ROW};;;;;;;;;;\n".encode(), tmp_path, max_columns=12
    )
    assert trailing.row(2) == tuple(ROW.split(";"))
    with pytest.raises(LimitExceeded) as raised:
        read_bytes(f"{HEADER_LINE}\n{wide}\n".encode(), tmp_path, max_columns=12)

    assert "import_max_columns" in raised.value.message
    assert "line 2" in raised.value.message


def test_csv_max_cell_chars(tmp_path: Path) -> None:
    text = f"{HEADER_LINE}\nx@example.com;;{'a' * 1000}\n"

    assert (
        read_bytes(text.encode(), tmp_path, max_cell_chars=1000).row(2)[2] == "a" * 1000
    )
    with pytest.raises(LimitExceeded) as raised:
        read_bytes(text.encode(), tmp_path, max_cell_chars=999)

    assert "import_max_cell_chars" in raised.value.message
    assert "999" in raised.value.message


def test_csv_quoted_cell_over_field_limit(tmp_path: Path) -> None:
    cell = "b\n" * 600
    text = f'{HEADER_LINE}\nx@example.com;;"{cell}"\n'

    with pytest.raises(LimitExceeded) as raised:
        read_bytes(text.encode(), tmp_path, max_cell_chars=1000)

    assert "import_max_cell_chars" in raised.value.message
    assert "line 2" in raised.value.message


def test_csv_max_line_chars(tmp_path: Path) -> None:
    line = ";".join(["a" * 100] * 12)

    with pytest.raises(LimitExceeded) as raised:
        read_bytes(f"{HEADER_LINE}\n{line}\n".encode(), tmp_path, max_cell_chars=250)

    assert "Line 2" in raised.value.message
    assert "import_max_cell_chars" in raised.value.message


def test_csv_default_limits_admit_c20_cell(tmp_path: Path) -> None:
    result = read_text(
        f"{HEADER_LINE}\nx@example.com;;Anna;{'B' * 200_000}\n", tmp_path
    )

    assert result.row(2)[3] == "B" * 200_000


CELL_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(';,"\t\n\r  \u00a0\u2019éÈßœ€'),
        st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
    ),
    max_size=12,
)


def expected_rows(
    rows: list[list[str]], line_ending: str
) -> tuple[str, list[SheetRow]]:
    """Write rows with the csv module; return the text and the rows to read back.

    The csv module of Python 3.11 quotes a cell that contains CR only when the
    line ending contains CR, so LF files quote every cell: an unquoted CR
    before the LF would make a CRLF line ending.
    """
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        delimiter=";",
        lineterminator=line_ending,
        quoting=csv.QUOTE_MINIMAL if "\r" in line_ending else csv.QUOTE_ALL,
    )
    writer.writerow(HEADER)
    expected = []
    line = 2
    for cells in rows:
        start = buffer.tell()
        writer.writerow(cells)
        record = buffer.getvalue()[start:]
        trimmed = list(cells)
        while trimmed and not trimmed[-1]:
            trimmed.pop()
        if any(cell.strip(BLANK) for cell in trimmed):
            expected.append(SheetRow(line, tuple(trimmed)))
        line += len(LINE_BREAK.findall(record))
    return buffer.getvalue(), expected


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    rows=st.lists(st.lists(CELL_TEXT, min_size=1, max_size=6), max_size=12),
    line_ending=st.sampled_from(["\r\n", "\n"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
)
def test_csv_round_trip(
    rows: list[list[str]], line_ending: str, encoding: str, tmp_path: Path
) -> None:
    text, expected = expected_rows(rows, line_ending)

    result = read_bytes(text.encode(encoding), tmp_path)

    assert result.separator == ";"
    assert result.header == SheetRow(1, HEADER)
    assert result.rows == expected
