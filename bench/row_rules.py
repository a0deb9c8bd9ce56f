"""Measure the row rules on generated staff rows, and email-validator for scale.

Usage: ``.venv/bin/python bench/row_rules.py [--rows N] [--repeats R]``

Builds N rows (100,000 by default) of the common kind: a unique ASCII email
on one of five public domains, a cid, names, ``enabled``, language and
country codes, and empty unit cells. It validates them R times (5 by
default) with one ``RowValidator`` and prints the best rate in rows per
second. It then times ``email_validator.validate_email`` on the same
addresses, because that number shows how fast the machine is compared with
others: the rate of the rules is only comparable between machines together
with it.
"""

from __future__ import annotations

import argparse
import platform
import random
import time

import email_validator
import pycountry

from maizeplus.imports.cells import SheetRow
from maizeplus.imports.columns import Column, TenantImportOptions, validate_header
from maizeplus.imports.rules import RowValidator

DOMAINS = [
    "example.com",
    "example.org",
    "example.net",
    "mail.example.co.uk",
    "example.it",
]
FIRST_NAMES = ["Anna", "Luca", "Sofia", "Nicolò", "Zoë", "Marco", "Giulia", "José"]
LAST_NAMES = ["Verdi", "Bianchi", "Ricci", "Ferri", "Martin", "Rossi", "Ångström"]
EMAIL_VALIDATOR_SAMPLE = 5_000


def generate_rows(count: int) -> list[SheetRow]:
    random_source = random.Random(1)
    rows = []
    for index in range(count):
        first_name = random_source.choice(FIRST_NAMES)
        last_name = random_source.choice(LAST_NAMES)
        domain = random_source.choice(DOMAINS)
        email = f"user{index}.{random_source.randrange(10**6)}@{domain}"
        cells = (
            email,
            f"C-{index}",
            first_name,
            last_name,
            random_source.choice(["true", "false", "TRUE", ""]),
            random_source.choice(["it", "en", "fr", "de"]),
            random_source.choice(["IT", "FR", "GB", "DE"]),
            "",
            "",
            "",
            "",
            "",
        )
        rows.append(SheetRow(index + 2, cells))
    return rows


def build_validator() -> RowValidator:
    options = TenantImportOptions()
    header = SheetRow(1, tuple(column.value for column in Column))
    return RowValidator(
        validate_header(header, options),
        options,
        languages=[
            language.alpha_2
            for language in pycountry.languages
            if hasattr(language, "alpha_2")
        ],
        countries=[country.alpha_2 for country in pycountry.countries],
    )


def best_seconds(rows: list[SheetRow], validator: RowValidator, repeats: int) -> float:
    validate = validator.validate
    for row in rows[:1_000]:
        validate(row)
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        for row in rows:
            validate(row)
        timings.append(time.perf_counter() - started)
    return min(timings)


def email_validator_microseconds(rows: list[SheetRow]) -> float:
    addresses = [str(row.cells[0]) for row in rows[:EMAIL_VALIDATOR_SAMPLE]]
    started = time.perf_counter()
    for address in addresses:
        email_validator.validate_email(address, check_deliverability=False)
    return (time.perf_counter() - started) / len(addresses) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows to generate")
    parser.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="timed passes, of which the fastest is reported",
    )
    arguments = parser.parse_args()

    rows = generate_rows(arguments.rows)
    validator = build_validator()
    failed = sum(1 for row in rows if validator.validate(row).errors)
    seconds = best_seconds(rows, validator, arguments.repeats)

    machine = f"{platform.machine()} {platform.processor()}".strip()
    print(f"python {platform.python_version()} on {machine}")
    print(f"rows: {len(rows):,}, rows with errors: {failed}")
    print(f"row rules: {len(rows) / seconds:,.0f} rows/s (best of {arguments.repeats})")
    print(
        f"email-validator alone: {email_validator_microseconds(rows):.1f} µs an address"
    )


if __name__ == "__main__":
    main()
