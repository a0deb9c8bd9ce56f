"""Writing exports and row errors as CSV, JSON Lines or XLSX files.

CSV and XLSX flatten nested objects into dotted columns (``language.code``).
Both neutralise text that a spreadsheet would run as a formula: a cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (the list
of OWASP's "CSV Injection" page). In CSV such a cell gets a leading ``'``.
In XLSX the text is kept as it is, stored as a string with Excel's quote
prefix, which shows it as text even when the cell is edited. JSON Lines keeps
every value exactly as the server sent it.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, get_args

import xlsxwriter
from pydantic import BaseModel
from xlsxwriter.exceptions import XlsxWriterException

from maizeplus.client.models import RESOURCE_MODELS, Resource
from maizeplus.kit.spreadsheet_safety import SafeCsvWriter, is_formula

logger = logging.getLogger("maizeplus.client")

# Rows of one worksheet in Excel 2007 and later, the header row included.
XLSX_MAX_ROWS = 1_048_576
# Excel stores at most this many characters in a cell.
XLSX_MAX_CELL_CHARS = 32_767
# Integers beyond 2**53 lose digits as Excel numbers, so they are written as text.
XLSX_MAX_EXACT_INTEGER = 2**53
# The users' include names and the field each adds, per the API contract.
INCLUDED_FIELDS = {
    "language": "language",
    "country": "country",
    "organizationalUnit": "organizational_unit",
    "organizationalUnit.businessUnit": "organizational_unit.business_unit",
}


def flatten(item: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested objects into dotted keys; a list becomes its JSON text."""
    flat: dict[str, Any] = {}
    for key, value in item.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, list):
            flat[name] = json.dumps(value, ensure_ascii=False)
        else:
            flat[name] = value
    return flat


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        if isinstance(argument, type) and issubclass(argument, BaseModel):
            return argument
    return None


def _model_columns(
    model: type[BaseModel], prefix: str, items: Sequence[Any], requested: set[str]
) -> list[str]:
    """List the dotted columns of ``model``.

    A nested object that is optional (a relation of the users export) gets
    columns only when the first page's items contain its key or ``requested``
    names it, so relations that were not included add no empty columns.
    """
    columns: list[str] = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        path = f"{prefix}{key}"
        nested = _nested_model(info.annotation)
        if nested is None:
            columns.append(path)
            continue
        present = [
            item[key] for item in items if isinstance(item, Mapping) and key in item
        ]
        if info.is_required() or present or path in requested:
            inner = [value for value in present if isinstance(value, Mapping)]
            columns += _model_columns(nested, f"{path}.", inner, requested)
    return columns


def export_columns(
    resource: Resource, first_items: Sequence[Mapping[str, Any]], include: Sequence[str]
) -> list[str]:
    """Choose the columns of an export from its model, its includes and its first page.

    Fields that the first page has beyond the model (a newer server's
    additions) come after the model's columns.
    """
    requested = {INCLUDED_FIELDS[name] for name in include if name in INCLUDED_FIELDS}
    if "organizational_unit.business_unit" in requested:
        requested.add("organizational_unit")
    columns = _model_columns(RESOURCE_MODELS[resource], "", first_items, requested)
    known = set(columns)
    relations = relation_names(columns)
    for item in first_items:
        for key in flatten(item):
            if key not in known and key not in relations:
                known.add(key)
                columns.append(key)
    return columns


def relation_names(columns: Iterable[str]) -> set[str]:
    """Return every dotted prefix of the columns: the names of nested objects.

    A null relation flattens to its own name (``country``), which its columns
    (``country.code``, ``country.name``) already cover.
    """
    names: set[str] = set()
    for column in columns:
        parts = column.split(".")
        names.update(".".join(parts[:end]) for end in range(1, len(parts)))
    return names


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return str(value)


class _DroppedColumns:
    """Warns once for each column that appears after the header was written."""

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = set(columns)
        self.relations = relation_names(columns)
        self.warned: set[str] = set()

    def check(self, row: Mapping[str, Any]) -> None:
        for key, value in row.items():
            if key in self.columns or key in self.warned:
                continue
            if value is None and key in self.relations:
                continue  # a null relation whose columns stay empty
            self.warned.add(key)
            logger.warning(
                "column %s first appeared after the header was written; its values "
                "are left out (use --format jsonl to keep every field)",
                key,
            )


class CsvTableWriter:
    """Writes flattened rows as CSV under a fixed header."""

    def __init__(
        self, stream: IO[str], columns: Sequence[str], delimiter: str = ","
    ) -> None:
        self.columns = list(columns)
        self._writer = SafeCsvWriter(stream, delimiter=delimiter, lineterminator="\r\n")
        self._writer.writerow(self.columns)
        self._dropped = _DroppedColumns(self.columns)

    def write(self, row: Mapping[str, Any]) -> None:
        self._dropped.check(row)
        self._writer.writerow([_text(row.get(column)) for column in self.columns])


class XlsxTableWriter:
    """Writes flattened rows to an XLSX workbook, streaming with constant memory.

    A sheet that reaches Excel's row limit continues on a new sheet named
    ``NAME-2``, ``NAME-3`` and so on, each with the header.
    """

    def __init__(
        self,
        path: Path,
        sheet_name: str,
        columns: Sequence[str],
        max_rows: int = XLSX_MAX_ROWS,
    ) -> None:
        self.columns = list(columns)
        self.sheet_name = sheet_name[:31]
        self.max_rows = max_rows
        self._workbook = xlsxwriter.Workbook(
            str(path), {"constant_memory": True, "strings_to_numbers": False}
        )
        self._text_format = self._workbook.add_format({"quote_prefix": True})
        self._header_format = self._workbook.add_format({"bold": True})
        self._sheets = 0
        self._row = 0
        self._dropped = _DroppedColumns(self.columns)
        self._add_sheet()

    def _add_sheet(self) -> None:
        self._sheets += 1
        name = (
            self.sheet_name
            if self._sheets == 1
            else f"{self.sheet_name[:27]}-{self._sheets}"
        )
        self._sheet = self._workbook.add_worksheet(name)
        for index, column in enumerate(self.columns):
            self._write_cell(0, index, column, self._header_format)
        self._sheet.freeze_panes(1, 0)
        self._row = 1

    def _write_cell(self, row: int, column: int, value: Any, fmt: Any = None) -> None:
        if value is None:
            return
        if isinstance(value, bool):
            self._sheet.write_boolean(row, column, value)
        elif isinstance(value, float) or (
            isinstance(value, int) and abs(value) < XLSX_MAX_EXACT_INTEGER
        ):
            self._sheet.write_number(row, column, value)
        else:
            text = str(value)
            if len(text) > XLSX_MAX_CELL_CHARS:
                # NOTE: Excel cannot store longer text, so the cell is cut.
                logger.warning(
                    "a value of column %s has %d characters; XLSX keeps the first %d",
                    self.columns[column],
                    len(text),
                    XLSX_MAX_CELL_CHARS,
                )
                text = text[:XLSX_MAX_CELL_CHARS]
            if is_formula(text):
                fmt = self._text_format
            # write_string never turns text into a formula, unlike write().
            self._sheet.write_string(row, column, text, fmt)

    def write(self, row: Mapping[str, Any]) -> None:
        self._dropped.check(row)
        if self._row >= self.max_rows:
            self._add_sheet()
        for index, column in enumerate(self.columns):
            self._write_cell(self._row, index, row.get(column))
        self._row += 1

    def close(self) -> None:
        self._workbook.close()


class ExportFile:
    """Writes the items of an export's pages in one format, to a file or a stream.

    A file is written under a temporary name beside it and renamed when
    ``commit`` is called, so a failed export leaves no partial file behind.
    The columns of CSV and XLSX come from the first page (``export_columns``).
    """

    def __init__(
        self,
        resource: Resource,
        format: str,
        output: Path | None,
        *,
        stream: IO[str] | None = None,
        include: Sequence[str] = (),
        delimiter: str = ",",
        bom: bool = False,
        xlsx_max_rows: int = XLSX_MAX_ROWS,
    ) -> None:
        if format == "xlsx" and output is None:
            raise ValueError("XLSX needs an output file")
        self.resource = resource
        self.format = format
        self.output = output
        self.include = list(include)
        self.delimiter = delimiter
        self.bom = bom
        self.xlsx_max_rows = xlsx_max_rows
        self.rows = 0
        self._partial = (
            None if output is None else output.with_name(f".{output.name}.partial")
        )
        self._stream = stream
        self._owned_stream: IO[str] | None = None
        self._table: CsvTableWriter | XlsxTableWriter | None = None

    def _text_stream(self) -> IO[str]:
        if self._stream is None:
            assert self._partial is not None
            encoding = "utf-8-sig" if self.bom else "utf-8"
            self._owned_stream = self._partial.open("w", encoding=encoding, newline="")
            self._stream = self._owned_stream
        return self._stream

    def _open_table(self, first_items: Sequence[Mapping[str, Any]]) -> None:
        columns = export_columns(self.resource, first_items, self.include)
        if self.format == "xlsx":
            assert self._partial is not None
            self._table = XlsxTableWriter(
                self._partial, self.resource.value, columns, self.xlsx_max_rows
            )
        else:
            self._table = CsvTableWriter(self._text_stream(), columns, self.delimiter)

    def write_items(self, items: Iterable[Mapping[str, Any]]) -> None:
        """Write the items of one page."""
        batch = list(items)
        if self.format == "jsonl":
            stream = self._text_stream()
            for item in batch:
                stream.write(json.dumps(item, ensure_ascii=False) + "\n")
        else:
            if self._table is None:
                self._open_table(batch)
            assert self._table is not None
            for item in batch:
                self._table.write(flatten(item))
        self.rows += len(batch)

    def commit(self) -> None:
        """Finish the output: write the header of an empty export, close and rename the file."""
        if self.format == "jsonl":
            self._text_stream()  # an empty export still gets its (empty) file
        elif self._table is None:
            self._open_table([])
        if isinstance(self._table, XlsxTableWriter):
            self._table.close()
        if self._owned_stream is not None:
            self._owned_stream.close()
        elif self._stream is not None:
            self._stream.flush()
        if self._partial is not None and self.output is not None:
            os.replace(self._partial, self.output)

    def discard(self) -> None:
        """Close and delete the partial file after a failure."""
        if isinstance(self._table, XlsxTableWriter):
            try:
                self._table.close()
            except (OSError, XlsxWriterException) as error:
                logger.debug("closing the partial workbook failed: %s", error)
        if self._owned_stream is not None:
            self._owned_stream.close()
        if self._partial is not None:
            self._partial.unlink(missing_ok=True)


def row_error_records(errors: Iterable[Mapping[str, Any]]) -> Iterable[dict[str, Any]]:
    """Yield one record per message of each row error: row, column, message, validated_at."""
    for error in errors:
        for column, messages in dict(error.get("errors") or {}).items():
            for message in messages:
                yield {
                    "row": error.get("row"),
                    "column": column,
                    "message": message,
                    "validated_at": error.get("validated_at"),
                }


ROW_ERROR_COLUMNS = ("row", "column", "message", "validated_at")
