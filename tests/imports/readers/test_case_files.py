"""Every reader-related case file, read to the expected cells and row numbers."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from maizeplus.imports.cells import DateCell, SheetRow
from maizeplus.imports.errors import FileUnreadable, LimitExceeded
from maizeplus.imports.readers import FileFormat
from tests.imports.readers.support import HEADER, ReadResult, limits, read_file

CASES = Path(__file__).parents[2] / "data" / "cases"


def read_case(name: str, tmp_path: Path) -> ReadResult:
    return read_file(CASES / name, tmp_path)


def test_c01_utf8_bom_crlf(tmp_path: Path) -> None:
    result = read_case("C01-utf8-bom-crlf.csv", tmp_path)

    assert result.format is FileFormat.CSV
    assert result.encoding == "utf-8-sig"
    assert result.separator == ";"
    assert result.header == SheetRow(1, HEADER)
    assert result.rows == [
        SheetRow(
            2, ("nicolo.ferri@example.com", "", "Nicolò", "Ferri", "true", "it", "IT")
        ),
        SheetRow(
            3, ("zoe.martin@example.org", "", "Zoë", "Martin", "false", "fr", "FR")
        ),
    ]


def test_c02_cp1252_names(tmp_path: Path) -> None:
    result = read_case("C02-cp1252-accented-names.csv", tmp_path)

    assert result.encoding == "cp1252"
    assert result.header == SheetRow(1, HEADER)
    names = [(row.number, row.cells[2], row.cells[3]) for row in result.rows]
    assert names == [
        (2, "José", "Álvarez"),
        (3, "François", "Dupré"),
        (4, "Noëlle", "D\u2019Arcy"),
        (5, "Chloé", "Œuvray"),
        (6, "Björn", "Ångström"),
    ]


def test_c03a_comma_separated(tmp_path: Path) -> None:
    result = read_case("C03a-comma-separated.csv", tmp_path)

    assert result.separator == ","
    assert result.header == SheetRow(1, HEADER)
    assert result.rows == [
        SheetRow(
            2, ("anna.verdi@example.com", "", "Anna", "Verdi", "true", "it", "IT")
        ),
        SheetRow(
            3, ("luca.bianchi@example.org", "", "Luca", "Bianchi", "true", "it", "IT")
        ),
        SheetRow(
            4, ("sofia.ricci@example.net", "", "Sofia", "Ricci", "false", "it", "IT")
        ),
    ]


def test_c03b_one_comma_row(tmp_path: Path) -> None:
    result = read_case("C03b-one-row-comma-separated.csv", tmp_path)

    assert result.separator == ";"
    assert result.numbers() == [2, 3, 4]
    assert result.row(3) == ("luca.bianchi@example.org,,Luca,Bianchi,true,it,IT,,,,,",)
    assert result.row(4)[0] == "sofia.ricci@example.net"


def test_c04_quoting(tmp_path: Path) -> None:
    result = read_case("C04-quoted-separator-newline-quotes.csv", tmp_path)

    assert result.numbers() == [2, 3, 5, 6]
    assert result.row(2)[3] == "Verdi; Bianchi"
    assert result.row(3)[2] == "Giulia\nMaria"
    assert result.row(3)[3] == "Conti"
    assert result.row(5)[2] == 'Sofia "Sofi"'
    assert result.row(6)[0] == "not-an-email"


def test_c05_header_kept_verbatim(tmp_path: Path) -> None:
    result = read_case("C05-header-case-and-spaces.csv", tmp_path)

    assert result.header.cells[:4] == ("Email ", "CID", " First_Name", "LAST_NAME")
    assert result.header.cells[6] == "Country_Id "
    assert result.row(2)[:2] == ("elena.rossi@example.com", "E-01")
    assert result.row(3)[:2] == ("paolo.neri@example.org", "P-02")


@pytest.mark.parametrize(
    "name",
    [
        "C06a-trailing-empty-rows-and-columns.csv",
        "C06b-trailing-formatted-empty-rows.xlsx",
    ],
)
def test_c06_trailing_empty_rows(name: str, tmp_path: Path) -> None:
    result = read_case(name, tmp_path)

    assert result.header == SheetRow(1, HEADER)
    assert result.rows == [
        SheetRow(
            2, ("anna.verdi@example.com", "", "Anna", "Verdi", "true", "it", "IT")
        ),
        SheetRow(
            3, ("luca.bianchi@example.org", "", "Luca", "Bianchi", "true", "it", "IT")
        ),
    ]


def test_c12a_excel_booleans(tmp_path: Path) -> None:
    result = read_case("C12a-excel-boolean-cells.xlsx", tmp_path)

    assert result.format is FileFormat.XLSX
    assert result.encoding is None
    assert result.separator is None
    enabled = {row.number: row.cells[4] for row in result.rows}
    assert enabled == {
        2: "true",
        3: "false",
        4: "FALSE",
        5: "false",
        6: "0",
        7: "no",
        8: "True ",
    }


def test_c12b_booleans_as_csv(tmp_path: Path) -> None:
    result = read_case("C12b-excel-booleans-saved-as-csv.csv", tmp_path)

    enabled = {row.number: row.cells[4] for row in result.rows}
    assert enabled == {2: "TRUE", 3: "FALSE", 4: "False", 5: "1", 6: "yes"}


def test_c14_header_on_row_3(tmp_path: Path) -> None:
    result = read_case("C14-header-on-row-3.xlsx", tmp_path)

    assert result.header == SheetRow(1, ("Elenco utenti \u2013 marzo 2025",))
    assert result.numbers() == [3, 4, 5]
    assert result.row(3) == HEADER


def test_c15_inline_strings(tmp_path: Path) -> None:
    result = read_case("C15-inline-strings-no-sharedstrings.xlsx", tmp_path)

    assert result.header == SheetRow(1, HEADER)
    assert result.rows == [
        SheetRow(
            2, ("nicolo.ferri@example.com", "", "Nicolò", "Ferri", "true", "it", "IT")
        ),
        SheetRow(
            3, ("zoe.martin@example.org", "", "Zoë", "Martin", "false", "fr", "FR")
        ),
    ]


def test_c17_date_cells(tmp_path: Path) -> None:
    result = read_case("C17-date-cells-in-text-column.xlsx", tmp_path)

    assert result.row(2)[1] == "C-100"
    assert result.row(3)[1] == DateCell(45994.0)
    assert result.row(4)[1] == DateCell(45632.0)


def test_c20_huge_cells(tmp_path: Path) -> None:
    result = read_case("C20-huge-cells.csv", tmp_path)

    assert result.numbers() == [2, 3, 4, 5]
    assert result.row(3)[3] == "B" * 200_000
    assert result.row(4)[2] == "Zoë" + "e" * 253
    assert result.row(5)[0] == "sofia.ricci@example.net"


def test_c21a_zip_bomb(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(LimitExceeded) as raised:
        read_case("C21a-zip-bomb-512MiB-sheet.xlsx", tmp_path)

    assert time.monotonic() - started < 2
    assert "import_xlsx_max_compression_ratio" in raised.value.message
    assert "100" in raised.value.message


def test_c21a_total_size_cap(tmp_path: Path) -> None:
    capped = limits(
        xlsx_max_compression_ratio=1_000_000, xlsx_max_uncompressed_bytes=256 * 2**20
    )

    with pytest.raises(LimitExceeded) as raised:
        read_file(CASES / "C21a-zip-bomb-512MiB-sheet.xlsx", tmp_path, capped)

    assert "import_xlsx_max_uncompressed_bytes" in raised.value.message
    assert "268,435,456" in raised.value.message


@pytest.mark.parametrize(
    "name", ["C22a-xml-billion-laughs.xlsx", "C22b-xml-external-entity.xlsx"]
)
def test_c22_entities_rejected(name: str, tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(FileUnreadable) as raised:
        read_case(name, tmp_path)

    assert time.monotonic() - started < 2
    assert "DOCTYPE" in raised.value.message
    assert "lol" not in raised.value.message


def test_c22b_hostname_never_read(tmp_path: Path) -> None:
    hostname = Path("/etc/hostname").read_text().strip()

    with pytest.raises(FileUnreadable) as raised:
        read_case("C22b-xml-external-entity.xlsx", tmp_path)

    assert hostname
    assert hostname not in raised.value.message
    assert hostname not in str(raised.value)


def test_c23a_csv_line_numbers(tmp_path: Path) -> None:
    result = read_case("C23a-row-numbers.csv", tmp_path)

    assert result.numbers() == [2, 3, 5, 6, 8, 9]
    assert result.row(3)[0] == "anna.verdi(at)example.com"
    assert result.row(5)[5] == "ita"
    assert result.row(6)[3] == "Conti\nRicci"
    assert result.row(6)[6] == "ITA"
    assert result.row(9)[:4] == ("matteo.galli@example.com", "", "Matteo", "")


def test_c23b_xlsx_row_numbers(tmp_path: Path) -> None:
    result = read_case("C23b-row-numbers.xlsx", tmp_path)

    assert result.numbers() == [2, 3, 5, 6, 7]
    assert result.row(3)[0] == "anna.verdi(at)example.com"
    assert result.row(5)[5] == "ita"
    assert result.row(7)[:4] == ("matteo.galli@example.com", "", "", "Galli")
