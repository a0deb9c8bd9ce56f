"""Streaming readers for CSV and XLSX uploads, behind one entry point: ``open_sheet``.

Readers yield cells as the file has them; they never trim values, which the
row rules do. Every problem with the file as a whole raises ``FileUnreadable``
(or its subclass ``LimitExceeded``), both from ``open_sheet`` and while
``Sheet.rows`` or ``Sheet.chunks`` is iterated.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path

from maizeplus.imports.cells import SheetRow
from maizeplus.imports.errors import FileUnreadable, LimitExceeded, UploadRejected
from maizeplus.imports.readers.csv_reader import CsvReader
from maizeplus.imports.readers.detect import (
    FileFormat,
    detect_format,
    detect_upload_format,
)
from maizeplus.imports.readers.limits import ReadLimits, limit_text
from maizeplus.imports.readers.xlsx_reader import XlsxReader

__all__ = [
    "FileFormat",
    "ReadLimits",
    "Sheet",
    "detect_format",
    "detect_upload_format",
    "open_sheet",
]

# Characters of a blank row: spaces, tabs, no-break spaces and line breaks.
BLANK_CHARACTERS = " \t\u00a0\r\n"
# Rows that ``Sheet.chunks`` yields at a time, unless ``open_sheet`` is told.
DEFAULT_CHUNK_ROWS = 5_000


@dataclass(frozen=True, slots=True)
class Sheet:
    """An open upload: its format, its header row and a stream of its data rows.

    ``encoding`` and ``separator`` are those chosen for a CSV file and None for
    XLSX. ``header`` is the record numbered 1: the first line of a CSV file, or
    row 1 of the worksheet, which is empty when the sheet has no row 1.
    ``chunks`` yields the records after it in lists, skipping those whose
    cells are all blank; trailing empty cells are trimmed from every row.
    ``rows`` yields the same records one at a time. Iterate one of the two.
    """

    format: FileFormat
    encoding: str | None
    separator: str | None
    header: SheetRow
    chunks: Iterator[list[SheetRow]]

    @property
    def rows(self) -> Iterator[SheetRow]:
        return chain.from_iterable(self.chunks)


@contextmanager
def open_sheet(
    path: Path,
    limits: ReadLimits,
    work_dir: Path,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Iterator[Sheet]:
    """Open a stored upload for reading; ``work_dir`` receives temporary files.

    ``chunk_rows`` is the length of the lists of ``Sheet.chunks``, but the last.

    Raises ``FileUnreadable`` when the file is not CSV or XLSX, is damaged, or
    exceeds a limit.
    """
    _check_file_size(path, limits)
    file_format = _stored_format(path)

    with ExitStack() as resources:
        if file_format is FileFormat.CSV:
            csv_reader = resources.enter_context(CsvReader(path, limits))
            records = csv_reader.records()
            encoding, separator = csv_reader.encoding, csv_reader.separator
        else:
            xlsx_reader = resources.enter_context(XlsxReader(path, limits, work_dir))
            records = xlsx_reader.records()
            encoding, separator = None, None
        resources.callback(records.close)

        header, first_data_row = _split_header(records)
        chunks = _data_chunks(first_data_row, records, limits, chunk_rows)
        yield Sheet(file_format, encoding, separator, header, chunks)


def _check_file_size(path: Path, limits: ReadLimits) -> None:
    size = path.stat().st_size
    if size > limits.max_upload_bytes:
        raise LimitExceeded(
            f"The file has {size:,} bytes, more than "
            f"{limit_text('import_max_upload_bytes', limits.max_upload_bytes)}."
        )


def _stored_format(path: Path) -> FileFormat:
    try:
        return detect_format(path)
    except UploadRejected as error:
        raise FileUnreadable(error.message) from None


def _split_header(
    records: Generator[SheetRow, None, None],
) -> tuple[SheetRow, SheetRow | None]:
    """Return the header (record 1, or an empty row 1) and any data row read ahead."""
    first = next(records, None)
    if first is None:
        return SheetRow(1, ()), None
    if first.number == 1:
        return first, None
    return SheetRow(1, ()), first


def _data_chunks(
    first: SheetRow | None,
    records: Iterator[SheetRow],
    limits: ReadLimits,
    chunk_rows: int,
) -> Iterator[list[SheetRow]]:
    if first is not None:
        records = chain((first,), records)
    count = 0
    while read := list(islice(records, chunk_rows)):
        # Most rows start with a cell of text, which settles that they are
        # not blank without a call.
        chunk = [
            row
            for row in read
            if (
                row.cells
                and type(first_cell := row.cells[0]) is str
                and first_cell.strip(BLANK_CHARACTERS)
            )
            or not is_blank(row)
        ]
        count += len(chunk)
        if count > limits.max_rows:
            raise LimitExceeded(
                "The file has more data rows than "
                f"{limit_text('import_max_rows', limits.max_rows)}. "
                "Split it into smaller files."
            )
        if chunk:
            yield chunk


def is_blank(row: SheetRow) -> bool:
    """Tell whether every cell of a row is empty or blank characters only."""
    for cell in row.cells:
        if not isinstance(cell, str) or cell.strip(BLANK_CHARACTERS):
            return False
    return True
