"""The limits a reader enforces on one file, taken from the ``import_*`` settings."""

from __future__ import annotations

from dataclasses import dataclass

from maizeplus.settings import Settings

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """Bounds on one file; each field has the value of the setting ``import_<field>``.

    The readers raise ``LimitExceeded`` naming the setting when a file goes past one.
    """

    max_upload_bytes: int
    max_rows: int
    max_columns: int
    max_cell_chars: int
    xlsx_max_entries: int
    xlsx_max_uncompressed_bytes: int
    xlsx_max_compression_ratio: int
    # Entries that expand to at most this many bytes skip the ratio check, so only
    # the absolute caps bound them. A small sheet padded with whitespace can
    # compress 300 times (206 KB to 685 bytes) and is still harmless.
    xlsx_ratio_exempt_bytes: int = MIB

    @classmethod
    def from_settings(cls, settings: Settings) -> ReadLimits:
        return cls(
            max_upload_bytes=settings.import_max_upload_bytes,
            max_rows=settings.import_max_rows,
            max_columns=settings.import_max_columns,
            max_cell_chars=settings.import_max_cell_chars,
            xlsx_max_entries=settings.import_xlsx_max_entries,
            xlsx_max_uncompressed_bytes=settings.import_xlsx_max_uncompressed_bytes,
            xlsx_max_compression_ratio=settings.import_xlsx_max_compression_ratio,
        )

    @property
    def max_line_chars(self) -> int:
        """Maximum length of one physical CSV line; it bounds the memory of a record.

        NOTE: this is derived, not a setting. Four cells of the maximum size, or
        one cell of that size and many short ones, fit on a line.
        """
        return 4 * self.max_cell_chars


def limit_text(setting: str, value: int) -> str:
    """Describe a limit for a message, e.g. ``the limit of 1,000 (import_max_rows)``."""
    return f"the limit of {value:,} ({setting})"
