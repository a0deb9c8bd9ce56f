"""``maizeplus worker`` whose file reader crashes on one marked file.

It stands for a reader bug that a stranger's file triggers: the crash tests
run this module in place of the worker, and every other file reads as usual.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from maizeplus.cli.main import main
from maizeplus.imports import pipeline

CRASH_MARK = b"reader.crash@example.com"
_open_sheet = pipeline.open_sheet


def _open_sheet_or_crash(path: Path, *arguments: Any, **options: Any) -> Any:
    with Path(path).open("rb") as upload:
        if CRASH_MARK in upload.read(4096):
            raise RuntimeError("the reader crashed on this file")
    return _open_sheet(path, *arguments, **options)


if __name__ == "__main__":
    pipeline.open_sheet = _open_sheet_or_crash  # type: ignore[assignment]
    main()
