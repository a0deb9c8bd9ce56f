"""The row rules applied to a chunk of rows at once, column by column.

``RowValidator.validate`` costs several microseconds a row in Python calls,
most of a million-row import. Here each column of a chunk is checked with a
few operations that run in C over the whole column (``map``, ``set``,
``max``), which settle the common row: every cell text, no surrounding
blanks to keep, every value within its rule. A row that any column cannot
settle this way is a suspect, and ``RowValidator.validate`` checks the whole
row again, so its values and messages come from the one implementation of
the rules. The tests compare both paths on generated rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from typing import TypeVar

from maizeplus.imports.cells import Cell, SheetRow
from maizeplus.imports.email_check import (
    MAX_ADDRESS_LENGTH,
    EmailChecker,
    are_common_addresses,
    is_common_address,
    is_plain_domain,
)
from maizeplus.imports.messages import MAX_TEXT_LENGTH
from maizeplus.imports.rules import (
    BOOLEANS,
    TRIMMED,
    ColumnRule,
    RowValidator,
    RuleKind,
    ValidatedRow,
)

# The value of ``ValidatedRow.errors`` for every row that the chunk path
# settles. It is shared, so no code may change it; the pipeline copies errors.
NO_ERRORS: dict[str, list[str]] = {}

_domain_of = itemgetter(2)

T = TypeVar("T")


@dataclass
class ColumnOutcome:
    """The values of one column of a chunk, and the rows it could not settle."""

    values: list[object]
    suspects: set[int]


def validate_chunk(
    validator: RowValidator, rows: Sequence[SheetRow]
) -> list[ValidatedRow]:
    """Validate rows as ``validator.validate`` does, one per row, in order."""
    if not rows:
        return []
    cell_columns = _cell_columns(rows, validator.width)
    values: list[object] = [repeat(None)] * len(ValidatedRow._fields[2:-1])
    suspects: set[int] = set()
    for step in validator.steps:
        outcome = _check_column(
            step.rule, cell_columns[step.cell], validator.email_checker
        )
        values[step.field] = outcome.values
        suspects |= outcome.suspects

    numbers = [row.number for row in rows]
    validated: list[ValidatedRow] = list(
        map(
            tuple.__new__,
            repeat(ValidatedRow),
            zip(numbers, repeat(NO_ERRORS), *values, repeat(validator.present)),  # type: ignore[call-overload]
        )
    )
    for index in suspects:
        validated[index] = validator.validate(rows[index])
    return validated


def _cell_columns(rows: Sequence[SheetRow], width: int) -> list[tuple[Cell, ...]]:
    """Return the first ``width`` cells of the rows as columns; short rows get ``""``."""
    cells = [row.cells for row in rows]
    if min(map(len, cells)) < width:
        padding: tuple[Cell, ...] = ("",) * width
        cells = [
            row if len(row) >= width else row + padding[len(row) :] for row in cells
        ]
    columns = list(zip(*cells, strict=False))
    return columns[:width]


def _check_column(
    rule: ColumnRule, cells: tuple[Cell, ...], email_checker: EmailChecker
) -> ColumnOutcome:
    suspects: set[int] = set()
    if set(map(type, cells)) != {str}:
        # A date cell breaks every rule; the row check reports it.
        suspects.update(_indexes_where(cells, lambda cell: type(cell) is not str))
        cells = tuple(cell if type(cell) is str else "" for cell in cells)
    texts: list[str] = list(map(str.strip, cells, repeat(TRIMMED)))  # type: ignore[arg-type]
    if rule.kind is RuleKind.EMAIL:
        return _check_emails(texts, suspects, email_checker)
    if rule.kind is RuleKind.TEXT:
        return _check_texts(texts, suspects, rule.required)
    if rule.kind is RuleKind.CODE:
        return _check_codes(texts, suspects, rule)
    return _check_enabled(texts, suspects)


def _check_texts(texts: list[str], suspects: set[int], required: bool) -> ColumnOutcome:
    if required and "" in texts:
        suspects.update(_indexes_where(texts, lambda text: not text))
    if max(map(len, texts)) > MAX_TEXT_LENGTH:
        suspects.update(_indexes_where(texts, lambda text: len(text) > MAX_TEXT_LENGTH))
    return ColumnOutcome([text or None for text in texts], suspects)


def _check_codes(
    texts: list[str], suspects: set[int], rule: ColumnRule
) -> ColumnOutcome:
    codes = list(map(rule.normalise, texts))
    unknown = set(codes) - rule.codes - {""}
    if unknown:
        suspects.update(_indexes_where(codes, unknown.__contains__))
    return ColumnOutcome([code or None for code in codes], suspects)


def _check_enabled(texts: list[str], suspects: set[int]) -> ColumnOutcome:
    lowered = list(map(str.lower, texts))
    unknown = set(lowered) - BOOLEANS.keys() - {""}
    if unknown:
        suspects.update(_indexes_where(lowered, unknown.__contains__))
    return ColumnOutcome(list(map(BOOLEANS.get, lowered)), suspects)


def _check_emails(
    texts: list[str], suspects: set[int], email_checker: EmailChecker
) -> ColumnOutcome:
    """Settle the ASCII addresses that ``EmailChecker.check`` decides by its regex.

    Those are stored in lower case, and their error is the verdict on their
    domain. Empty, non-ASCII, unusual or long addresses, and every address
    on a rejected domain, are suspects.
    """
    # The regular expression admits ASCII only, so it also finds the others.
    # A line break inside a cell would split it into two lines that match.
    joined = "\n".join(texts)
    if joined.count("\n") != len(texts) - 1 or not are_common_addresses(joined):
        matches = list(map(is_common_address, texts))
        suspects.update(_indexes_where(matches, lambda match: not match))
    if max(map(len, texts)) > MAX_ADDRESS_LENGTH:
        suspects.update(
            _indexes_where(texts, lambda text: len(text) > MAX_ADDRESS_LENGTH)
        )
    lowered = list(map(str.lower, texts))
    domains = list(map(_domain_of, map(str.rpartition, lowered, repeat("@"))))
    rejected = {
        domain
        for domain in set(domains)
        if not is_plain_domain(domain) or email_checker.domain_error(domain)
    }
    if rejected:
        suspects.update(_indexes_where(domains, rejected.__contains__))
    return ColumnOutcome(list(lowered), suspects)


def _indexes_where(values: Sequence[T], test: Callable[[T], object]) -> list[int]:
    return [index for index, value in enumerate(values) if test(value)]
