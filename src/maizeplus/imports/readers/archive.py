"""The ZIP container of an XLSX file, checked against the limits before it is read.

A ZIP file states the size of every entry in its central directory, at the end
of the file. ``Archive`` reads the entry count from the end-of-central-directory
record first, so that a directory of millions of entries is rejected before
``zipfile`` builds an object for each. It then checks the declared sizes and
compression ratios. ``Archive.chunks`` counts the bytes that decompression
really produces, because a declared size can lie.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from maizeplus.imports.errors import FileUnreadable, LimitExceeded
from maizeplus.imports.readers.limits import ReadLimits, limit_text

CHUNK_BYTES = 64 * 1024

# End of central directory record (APPNOTE.TXT 4.3.16): signature, disk numbers,
# entry counts, directory size and offset, comment length. 22 bytes, followed by
# a comment of at most 65,535 bytes.
_END_RECORD = struct.Struct("<4s4H2LH")
_END_SIGNATURE = b"PK\x05\x06"
_MAX_COMMENT_BYTES = 0xFFFF
# ZIP64 locator (4.3.15), just before the end record, and ZIP64 end record (4.3.14).
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
_ZIP64_END_RECORD = struct.Struct("<4sQ2H2L4Q")
_ZIP64_END_SIGNATURE = b"PK\x06\x06"

_ENCRYPTED_FLAG = 0x1

# Exceptions that zipfile and zlib raise on damaged or unsupported archives.
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    ValueError,
    struct.error,
)


def damaged_zip(detail: str) -> FileUnreadable:
    return FileUnreadable(
        f"The XLSX file is damaged ({detail}). Open it in Excel and save it again."
    )


def read_entry_count(file: BinaryIO) -> int:
    """Read the number of entries that the central directory declares."""
    file.seek(0, 2)
    size = file.tell()
    tail_start = max(0, size - _END_RECORD.size - _MAX_COMMENT_BYTES)
    file.seek(tail_start)
    tail = file.read()
    position = tail.rfind(_END_SIGNATURE)
    if position < 0 or position + _END_RECORD.size > len(tail):
        raise damaged_zip("the end of the ZIP central directory is missing")
    record = _END_RECORD.unpack_from(tail, position)
    entry_count: int = record[4]
    if entry_count != 0xFFFF:
        return entry_count
    return _read_zip64_entry_count(file, tail_start + position)


def _read_zip64_entry_count(file: BinaryIO, end_record_offset: int) -> int:
    locator_offset = end_record_offset - _ZIP64_LOCATOR.size
    if locator_offset < 0:
        return 0xFFFF
    file.seek(locator_offset)
    locator = _ZIP64_LOCATOR.unpack(file.read(_ZIP64_LOCATOR.size))
    if locator[0] != _ZIP64_LOCATOR_SIGNATURE:
        return 0xFFFF
    file.seek(locator[2])
    record_bytes = file.read(_ZIP64_END_RECORD.size)
    if len(record_bytes) < _ZIP64_END_RECORD.size:
        raise damaged_zip("the ZIP64 end of central directory is cut off")
    record = _ZIP64_END_RECORD.unpack(record_bytes)
    if record[0] != _ZIP64_END_SIGNATURE:
        raise damaged_zip("the ZIP64 end of central directory is missing")
    entry_count: int = record[6]
    return entry_count


def check_entry_count(count: int, limits: ReadLimits) -> None:
    if count > limits.xlsx_max_entries:
        raise LimitExceeded(
            f"The XLSX file contains {count:,} ZIP entries, more than "
            f"{limit_text('import_xlsx_max_entries', limits.xlsx_max_entries)}. "
            "A workbook holding a staff list needs far fewer; save the list alone."
        )


def check_declared_sizes(infos: list[zipfile.ZipInfo], limits: ReadLimits) -> None:
    """Check the sizes that the central directory declares, before decompressing."""
    total = sum(info.file_size for info in infos)
    if total > limits.xlsx_max_uncompressed_bytes:
        limit = limit_text(
            "import_xlsx_max_uncompressed_bytes", limits.xlsx_max_uncompressed_bytes
        )
        raise LimitExceeded(
            f"The XLSX file expands to {total:,} bytes, more than {limit}."
        )
    for info in infos:
        _check_compression_ratio(info, limits)


def _check_compression_ratio(info: zipfile.ZipInfo, limits: ReadLimits) -> None:
    if info.file_size <= limits.xlsx_ratio_exempt_bytes:
        return
    ratio = info.file_size / max(info.compress_size, 1)
    if ratio > limits.xlsx_max_compression_ratio:
        limit = limit_text(
            "import_xlsx_max_compression_ratio", limits.xlsx_max_compression_ratio
        )
        raise LimitExceeded(
            f"The XLSX entry {info.filename} expands {ratio:,.0f} times "
            f"({info.compress_size:,} bytes to {info.file_size:,}), more than "
            f"{limit}. A real worksheet compresses far less, so the file is rejected "
            "as a ZIP bomb."
        )


class Archive:
    """An open XLSX container whose central directory is within the limits."""

    def __init__(self, file: BinaryIO, limits: ReadLimits) -> None:
        try:
            check_entry_count(read_entry_count(file), limits)
            file.seek(0)
            self._zip = zipfile.ZipFile(file)
        except ZIP_ERRORS as error:
            raise damaged_zip(str(error)) from None
        infos = self._zip.infolist()
        check_entry_count(len(infos), limits)
        check_declared_sizes(infos, limits)
        # OPC part names are case-insensitive.
        self._entries = {info.filename.lower(): info for info in infos}
        self._remaining_bytes = limits.xlsx_max_uncompressed_bytes
        self._limits = limits

    def close(self) -> None:
        self._zip.close()

    def find(self, name: str) -> zipfile.ZipInfo | None:
        return self._entries.get(name.lower())

    def chunks(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        """Decompress an entry in chunks, up to its declared size and the total cap."""
        if info.flag_bits & _ENCRYPTED_FLAG:
            raise FileUnreadable(
                f"The XLSX entry {info.filename} is encrypted. Save the workbook "
                "without a password and upload it again."
            )
        produced = 0
        try:
            with self._zip.open(info) as entry:
                while chunk := entry.read(CHUNK_BYTES):
                    produced += len(chunk)
                    self._count_bytes(info, produced, len(chunk))
                    yield chunk
        except ZIP_ERRORS as error:
            raise damaged_zip(f"{info.filename}: {error}") from None

    def _count_bytes(
        self, info: zipfile.ZipInfo, produced: int, chunk_bytes: int
    ) -> None:
        if produced > info.file_size:
            declared = f"{info.file_size:,} bytes"
            raise damaged_zip(
                f"{info.filename} has more data than its declared {declared}"
            )
        self._remaining_bytes -= chunk_bytes
        if self._remaining_bytes < 0:
            limit = self._limits.xlsx_max_uncompressed_bytes
            raise LimitExceeded(
                "The XLSX file expands to more than "
                f"{limit_text('import_xlsx_max_uncompressed_bytes', limit)}."
            )
