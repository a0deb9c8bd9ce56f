"""Measure the speed and memory of the CSV and XLSX readers on generated staff lists.

Usage: ``.venv/bin/python -m bench.readers [--rows N] [--folder DIR]``

Writes a CSV file and an XLSX file of N data rows (100,000 by default) with
unique emails and names, then reads each through ``open_sheet`` in a fresh
child process. It prints rows per second, the child's peak resident memory
(VmHWM of /proc/self/status, so Linux only) and how far that peak rose above
the resident memory before reading. A second child per file reports the peak
of Python allocations (tracemalloc); tracing slows reading down, so its time
is not used. ``--openpyxl`` also times openpyxl's read-only mode on the same
XLSX file.

The XLSX file is written by ``bench.generate`` in the layout Excel uses:
every text cell is a shared string (``t="s"``), and each row has its ``r``
and ``spans`` attributes.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

from bench.generate import HEADER
from bench.generate import write_xlsx as write_workbook
from maizeplus.imports.readers import ReadLimits, open_sheet
from maizeplus.settings import Settings

PROJECT_DIR = Path(__file__).resolve().parent.parent

FIRST_NAMES = ["Anna", "Luca", "Zoë", "Nicolò", "Sofia", "Björn", "Chloé", "José"]
LAST_NAMES = ["Verdi", "Bianchi", "Ferri", "Ångström", "D’Arcy", "Œuvray", "Ricci"]
LANGUAGES = ["it", "en", "fr", "de", "es", "pt"]
COUNTRIES = ["IT", "GB", "FR", "DE", "ES", "PT", "CH"]


def staff_rows(count: int) -> Iterator[list[str]]:
    for index in range(count):
        yield [
            f"user{index}@example.com",
            f"C-{index:07d}",
            f"{FIRST_NAMES[index % len(FIRST_NAMES)]} {index}",
            LAST_NAMES[index % len(LAST_NAMES)],
            "true" if index % 5 else "false",
            LANGUAGES[index % len(LANGUAGES)],
            COUNTRIES[index % len(COUNTRIES)],
            "",
            "",
            "",
            "",
            "",
        ]


def write_csv(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(staff_rows(count))


def write_xlsx(path: Path, count: int) -> None:
    write_workbook(path, staff_rows(count))


def read_file(path: Path, reader: str) -> dict[str, float]:
    """Read every row of a file; return the row count, seconds and memory figures.

    ``reader`` is "maizeplus", "traced" (maizeplus under tracemalloc) or
    "openpyxl" (its read-only mode, for comparison).
    """
    rss_before_kib = memory_status_kib("VmRSS")
    if reader == "traced":
        tracemalloc.start()
    started = time.perf_counter()
    rows = count_openpyxl_rows(path) if reader == "openpyxl" else count_rows(path)
    seconds = time.perf_counter() - started
    peak_kib = memory_status_kib("VmHWM")
    result = {
        "rows": rows,
        "seconds": seconds,
        "peak_rss_mib": peak_kib / 1024,
        "rss_added_mib": (peak_kib - rss_before_kib) / 1024,
    }
    if reader == "traced":
        result["traced_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
    return result


def memory_status_kib(field: str) -> int:
    """Read a memory figure of this process from /proc/self/status (Linux), in KiB.

    VmHWM is the peak resident set of this program since it started. Unlike
    ru_maxrss, it does not carry over the parent's peak across fork and exec.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} is missing from /proc/self/status")


def count_rows(path: Path) -> int:
    limits = ReadLimits.from_settings(Settings())
    rows = 0
    with (
        tempfile.TemporaryDirectory() as work_dir,
        open_sheet(path, limits, Path(work_dir)) as sheet,
    ):
        for _row in sheet.rows:
            rows += 1
    return rows


def count_openpyxl_rows(path: Path) -> int:
    # A dev dependency, imported only for the comparison.
    import openpyxl  # type: ignore[import-untyped]

    workbook = openpyxl.load_workbook(path, read_only=True)
    rows = sum(1 for _row in workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    return rows - 1


def measure_in_child(path: Path, reader: str) -> dict[str, float]:
    # Run as a module from the project folder, so that the child can import
    # ``bench`` too; run as a script, it cannot.
    command = [sys.executable, "-m", "bench.readers", "--read", str(path)]
    command += ["--reader", reader]
    completed = subprocess.run(
        command, cwd=PROJECT_DIR, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"reading {path} with {reader} failed in a child process:\n"
            f"{completed.stderr}"
        )
    result: dict[str, float] = json.loads(completed.stdout)
    return result


def report(name: str, path: Path, reader: str) -> None:
    timing = measure_in_child(path, reader)
    line = (
        f"{name} ({reader}): {timing['rows']:,.0f} rows, "
        f"{path.stat().st_size / 2**20:.1f} MiB file, {timing['seconds']:.2f} s, "
        f"{timing['rows'] / timing['seconds']:,.0f} rows/s, "
        f"peak RSS {timing['peak_rss_mib']:.0f} MiB "
        f"({timing['rss_added_mib']:+.1f} MiB while reading)"
    )
    if reader == "maizeplus":
        traced = measure_in_child(path, "traced")
        line += f", traced Python peak {traced['traced_peak_mib']:.1f} MiB"
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="data rows per file")
    parser.add_argument(
        "--folder",
        type=Path,
        help="where to write the files (default: a temporary folder)",
    )
    parser.add_argument(
        "--openpyxl",
        action="store_true",
        help="also time openpyxl's read-only mode on the XLSX file",
    )
    parser.add_argument("--read", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--reader", default="maizeplus", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.read:
        print(json.dumps(read_file(arguments.read, arguments.reader)))
        return

    with tempfile.TemporaryDirectory() as temporary:
        folder = arguments.folder or Path(temporary)
        csv_path, xlsx_path = folder / "staff.csv", folder / "staff.xlsx"
        write_csv(csv_path, arguments.rows)
        write_xlsx(xlsx_path, arguments.rows)
        report("csv", csv_path, "maizeplus")
        report("xlsx", xlsx_path, "maizeplus")
        if arguments.openpyxl:
            report("xlsx", xlsx_path, "openpyxl")


if __name__ == "__main__":
    main()
