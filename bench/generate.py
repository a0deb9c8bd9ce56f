"""Generate a realistic users file of N rows, CSV or XLSX, deterministically.

    python -m bench.generate --rows 100000 --format csv --output users.csv

Names come with accents from several languages; languages, countries and
organizational units vary as in a real staff list. The same seed gives the
same bytes.
"""

from __future__ import annotations

import argparse
import random
import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

from maizeplus.imports.columns import Column
from maizeplus.kit.spreadsheet_safety import neutralise_row

FIRST_NAMES = [
    "Nicolò",
    "Zoë",
    "José",
    "François",
    "Noëlle",
    "Chloé",
    "Björn",
    "Ångström",
    "Søren",
    "Anna",
    "Luca",
    "Sofia",
    "Giulia",
    "Matteo",
    "Elena",
    "Paolo",
    "Marta",
    "Sara",
    "Marco",
    "Łukasz",
    "Zoltán",
    "Dvořák",
    "Ines",
    "João",
    "Çağla",
    "Mårten",
    "Aurélie",
    "Jürgen",
    "Renée",
    "Héloïse",
    "Ólafur",
    "Seán",
    "Íñigo",
    "Núria",
    "Kateřina",
    "Miloš",
    "Ana",
]
LAST_NAMES = [
    "Ferri",
    "Martin",
    "Álvarez",
    "Dupré",
    "D’Arcy",
    "Œuvray",
    "Ångström",
    "Kjær",
    "Verdi",
    "Bianchi",
    "Ricci",
    "Conti",
    "Rossi",
    "Neri",
    "Galli",
    "Bruni",
    "Russo",
    "Müller",
    "Schäfer",
    "Nowak",
    "Wiśniewski",
    "Horváth",
    "Novák",
    "Peixoto",
    "García",
    "Muñoz",
    "Fernández",
    "O’Brien",
    "Lefèvre",
    "Gonçalves",
    "Öztürk",
    "Søndergaard",
    "Dvořáková",
]
LANGUAGES = ["it", "en", "fr", "de", "es", "pt", "pl", "nl", "sv", "da", "cs", "hu"]
COUNTRIES = [
    "IT",
    "GB",
    "FR",
    "DE",
    "ES",
    "PT",
    "PL",
    "NL",
    "SE",
    "DK",
    "CZ",
    "HU",
    "IE",
    "CH",
]
DOMAINS = [
    "example.com",
    "example.org",
    "example.net",
    "corp.example.co.uk",
    "mail.example.it",
]
BUSINESS_UNITS = [
    ("BU-SAL", "Sales"),
    ("BU-ENG", "Engineering"),
    ("BU-OPS", "Operations"),
]
HEADER = [column.value for column in Column]


def _ascii(text: str) -> str:
    table = str.maketrans(
        "òëéçäåæøöüÅŁłáčěřšůžíñóúÍÓÚÉÁàèìùâêîôûãõ’Œœß",
        "oeecaaaoouALlacersuzinouIOUEAaeiuaeiouao'OOs",
    )
    return "".join(
        char
        for char in text.lower().translate(table)
        if char.isascii() and (char.isalnum() or char in ".-'")
    ).replace("'", "")


def user_rows(count: int, seed: int = 7, prefix: str = "") -> Iterator[list[str]]:
    """Yield ``count`` data rows, each a list of the HEADER's columns."""
    generator = random.Random(seed)
    for index in range(count):
        first = generator.choice(FIRST_NAMES)
        last = generator.choice(LAST_NAMES)
        email = f"{_ascii(first)}.{_ascii(last)}.{prefix}{index}@{generator.choice(DOMAINS)}"
        business_code, business_name = BUSINESS_UNITS[index % len(BUSINESS_UNITS)]
        team = index % 40
        parent = "" if team < 4 else f"OU-{team % 4:02d}"
        yield [
            email,
            f"E{index:07d}",
            first,
            last,
            "false" if generator.random() < 0.05 else "true",
            generator.choice(LANGUAGES),
            generator.choice(COUNTRIES),
            business_code,
            business_name,
            f"OU-{team:02d}",
            f"Team {team:02d}",
            parent,
        ]


def write_csv(path: Path, rows: Iterator[list[str]]) -> None:
    # The rows hold no separator, quote or line break, so plain joining is
    # valid CSV and much faster than the csv module for a million rows.
    with path.open("w", encoding="utf-8", newline="") as output:
        output.write(";".join(HEADER) + "\r\n")
        for row in rows:
            output.write(";".join(neutralise_row(row)) + "\r\n")


MAIN_NAMESPACE = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
SPREADSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
CONTENT_TYPES = (
    f"{XML_DECLARATION}"
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    f'ContentType="{SPREADSHEET_TYPE}.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    f'ContentType="{SPREADSHEET_TYPE}.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    f'ContentType="{SPREADSHEET_TYPE}.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELATIONSHIPS = (
    f'{XML_DECLARATION}<Relationships xmlns="{PACKAGE_RELATIONSHIPS}">'
    f'<Relationship Id="rId1" Type="{RELATIONSHIPS}/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    f'{XML_DECLARATION}<workbook xmlns="{MAIN_NAMESPACE}" xmlns:r="{RELATIONSHIPS}">'
    '<sheets><sheet name="Users" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELATIONSHIPS = (
    f'{XML_DECLARATION}<Relationships xmlns="{PACKAGE_RELATIONSHIPS}">'
    f'<Relationship Id="rId1" Type="{RELATIONSHIPS}/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{RELATIONSHIPS}/sharedStrings" '
    'Target="sharedStrings.xml"/></Relationships>'
)


def write_xlsx(path: Path, rows: Iterator[list[str]]) -> None:
    """Write a workbook whose text cells are all shared strings, as Excel does.

    The sheet is streamed to a temporary file; the shared strings are kept in
    a dict until the end, as a spreadsheet program would.
    """
    strings: dict[str, int] = {}
    sheet_path = path.with_suffix(".sheet.xml")
    with sheet_path.open("w", encoding="utf-8") as sheet:
        sheet.write(f'{XML_DECLARATION}<worksheet xmlns="{MAIN_NAMESPACE}"><sheetData>')
        sheet.write(_xlsx_row(1, HEADER, strings))
        for number, row in enumerate(rows, start=2):
            sheet.write(_xlsx_row(number, row, strings))
        sheet.write("</sheetData></worksheet>")

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELATIONSHIPS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELATIONSHIPS)
        archive.writestr("xl/sharedStrings.xml", _shared_strings_xml(strings))
        archive.write(sheet_path, "xl/worksheets/sheet1.xml")
    sheet_path.unlink()


def _xlsx_row(number: int, row: list[str], strings: dict[str, int]) -> str:
    cells = []
    for column, value in enumerate(row):
        if not value:
            continue
        index = strings.setdefault(value, len(strings))
        cells.append(f'<c r="{chr(65 + column)}{number}" t="s"><v>{index}</v></c>')
    return f'<row r="{number}" spans="1:12">{"".join(cells)}</row>'


def _shared_strings_xml(strings: dict[str, int]) -> str:
    items = "".join(f"<si><t>{escape(text)}</t></si>" for text in strings)
    return (
        f'{XML_DECLARATION}<sst xmlns="{MAIN_NAMESPACE}" '
        f'count="{len(strings)}" uniqueCount="{len(strings)}">{items}</sst>'
    )


def generate(
    path: Path, count: int, file_format: str, seed: int = 7, prefix: str = ""
) -> Path:
    rows = user_rows(count, seed, prefix)
    if file_format == "xlsx":
        write_xlsx(path, rows)
    else:
        write_csv(path, rows)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000, help="Data rows to write.")
    parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    parser.add_argument(
        "--seed", type=int, default=7, help="Seed of the random choices."
    )
    parser.add_argument("--output", type=Path, required=True, help="File to write.")
    arguments = parser.parse_args()
    generate(arguments.output, arguments.rows, arguments.format, arguments.seed)
    print(f"wrote {arguments.rows} rows to {arguments.output}")


if __name__ == "__main__":
    main()
