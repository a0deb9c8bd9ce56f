"""Measure the speed and memory of the CSV and XLSX readers on generated staff lists.

Usage: ``.venv/bin/python -m bench.readers [--rows N ...] [--format csv xlsx]
[--repeat K] [--calamine] [--openpyxl] [--record] [--note TEXT]``

For each size and format it reads ``bench/out/users-N.FORMAT``, the file that
``bench.generate`` writes (and ``bench.import_e2e`` reads), writing it first if
it is missing. The XLSX layout is Excel's: every text cell is a shared string
(``t="s"``) and each row has its ``r`` and ``spans`` attributes. Each reader
reads the whole file in a fresh child process, ``--repeat`` times:

* ``maizeplus``: ``open_sheet``, as each pass of an import reads the file;
* ``expat`` (XLSX): ``XlsxReader(fast_path=False)``, which gives every element
  to expat's Python handlers, as the reader did before its scanners;
* ``calamine`` (XLSX, with ``--calamine``): python-calamine, which holds the
  whole sheet in memory; it is the reader of the import floor, and a
  development dependency;
* ``openpyxl`` (XLSX, with ``--openpyxl``): openpyxl's read-only mode.

It prints the best time and the slowest, rows per second of the best run, the
child's CPU time, its peak resident memory (VmHWM of /proc/self/status, so
Linux only) and how far that peak rose above the resident memory before
reading. For ``maizeplus`` a further child reports the peak of Python
allocations (tracemalloc); tracing slows reading down, so its time is not used.
``--record`` writes ``bench/results/readers-FORMAT-N.json`` and rebuilds
``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.generate import generate
from bench.machine import describe_machine
from bench.report import RESULTS_DIR, write_results_page
from maizeplus.imports.readers import ReadLimits, open_sheet
from maizeplus.imports.readers.xlsx_reader import XlsxReader
from maizeplus.settings import Settings

PROJECT_DIR = Path(__file__).resolve().parent.parent
CACHE_DIR = PROJECT_DIR / "bench" / "out"


def read_file(path: Path, reader: str) -> dict[str, float]:
    """Read every row of a file; return the row count, seconds and memory figures.

    ``reader`` is one of "maizeplus", "traced" (maizeplus under tracemalloc),
    "expat", "calamine" and "openpyxl".
    """
    rss_before_kib = memory_status_kib("VmRSS")
    if reader == "traced":
        tracemalloc.start()
    started = time.perf_counter()
    cpu_started = time.process_time()
    rows = ROW_COUNTERS[reader](path)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    peak_kib = memory_status_kib("VmHWM")
    result = {
        "rows": rows,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
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
    """Count the data rows that ``open_sheet`` gives, as an import pass reads them."""
    limits = ReadLimits.from_settings(Settings())
    rows = 0
    with (
        tempfile.TemporaryDirectory() as work_dir,
        open_sheet(path, limits, Path(work_dir)) as sheet,
    ):
        for _row in sheet.rows:
            rows += 1
    return rows


def count_expat_rows(path: Path) -> int:
    """Count the records of the first sheet, read by expat's handlers alone."""
    limits = ReadLimits.from_settings(Settings())
    with (
        tempfile.TemporaryDirectory() as work_dir,
        XlsxReader(path, limits, Path(work_dir), fast_path=False) as reader,
    ):
        records = sum(1 for _record in reader.records())
    return records - 1  # the header row


def count_calamine_rows(path: Path) -> int:
    # Not a dependency of the project; see the module's documentation.
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(path))
    rows = workbook.get_sheet_by_index(0).to_python()
    return len(rows) - 1


def count_openpyxl_rows(path: Path) -> int:
    # A dev dependency, imported only for the comparison.
    import openpyxl  # type: ignore[import-untyped]

    workbook = openpyxl.load_workbook(path, read_only=True)
    rows = sum(1 for _row in workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    return rows - 1


ROW_COUNTERS = {
    "maizeplus": count_rows,
    "traced": count_rows,
    "expat": count_expat_rows,
    "calamine": count_calamine_rows,
    "openpyxl": count_openpyxl_rows,
}


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


def measure_reader(path: Path, reader: str, repeat: int) -> dict[str, Any]:
    """Read the file ``repeat`` times; return the best run's figures and the spread."""
    runs = [measure_in_child(path, reader) for _ in range(repeat)]
    best = min(runs, key=lambda run: run["seconds"])
    figures: dict[str, Any] = {
        "rows": int(best["rows"]),
        "runs": repeat,
        "best_seconds": round(best["seconds"], 2),
        "slowest_seconds": round(max(run["seconds"] for run in runs), 2),
        "rows_per_second": round(best["rows"] / best["seconds"]),
        "cpu_seconds": round(best["cpu_seconds"], 2),
        "peak_rss_mib": round(max(run["peak_rss_mib"] for run in runs), 1),
        "rss_added_mib": round(max(run["rss_added_mib"] for run in runs), 1),
    }
    if reader == "maizeplus":
        traced = measure_in_child(path, "traced")
        figures["traced_peak_mib"] = round(traced["traced_peak_mib"], 1)
    return figures


def describe(file_format: str, reader: str, figures: dict[str, Any]) -> str:
    line = (
        f"{file_format} {reader}: {figures['rows']:,} rows, best {figures['best_seconds']} s "
        f"(slowest {figures['slowest_seconds']} s of {figures['runs']}), "
        f"{figures['rows_per_second']:,} rows/s, CPU {figures['cpu_seconds']} s, "
        f"peak RSS {figures['peak_rss_mib']:.0f} MiB "
        f"({figures['rss_added_mib']:+.1f} MiB while reading)"
    )
    if "traced_peak_mib" in figures:
        line += f", traced Python peak {figures['traced_peak_mib']} MiB"
    return line


def input_file(folder: Path, rows: int, file_format: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"users-{rows}.{file_format}"
    if not path.exists():
        generate(path, rows, file_format)
    return path


def readers_of(file_format: str, arguments: argparse.Namespace) -> list[str]:
    if file_format == "csv":
        return ["maizeplus"]
    readers = ["maizeplus", "expat"]
    if arguments.calamine:
        readers.append("calamine")
    if arguments.openpyxl:
        readers.append("openpyxl")
    return readers


def record(
    file_format: str, path: Path, readers: dict[str, dict[str, Any]], note: str
) -> Path:
    first = next(iter(readers.values()))
    result = {
        "file_format": file_format,
        "rows": first["rows"],
        "file_mib": round(path.stat().st_size / 2**20, 1),
        "readers": readers,
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": describe_machine(),
        "note": note,
    }
    RESULTS_DIR.mkdir(exist_ok=True)
    target = RESULTS_DIR / f"readers-{file_format}-{first['rows']}.json"
    target.write_text(json.dumps(result, indent=2) + "\n")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, nargs="+", default=[100_000], help="data rows per file"
    )
    parser.add_argument(
        "--format", nargs="+", choices=["csv", "xlsx"], default=["csv", "xlsx"]
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each reader (default 1)"
    )
    parser.add_argument(
        "--folder",
        type=Path,
        default=CACHE_DIR,
        help="where the generated files are kept (default: bench/out)",
    )
    parser.add_argument(
        "--calamine",
        action="store_true",
        help="also time python-calamine on the XLSX file",
    )
    parser.add_argument(
        "--openpyxl",
        action="store_true",
        help="also time openpyxl's read-only mode on the XLSX file",
    )
    parser.add_argument(
        "--record",
        action="store_true",
        help="write bench/results/readers-*.json and rebuild bench/RESULTS.md",
    )
    parser.add_argument("--note", default="", help="note recorded with --record")
    parser.add_argument("--read", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--reader", default="maizeplus", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.read:
        print(json.dumps(read_file(arguments.read, arguments.reader)))
        return

    for rows in arguments.rows:
        for file_format in arguments.format:
            path = input_file(arguments.folder, rows, file_format)
            figures = {}
            for reader in readers_of(file_format, arguments):
                figures[reader] = measure_reader(path, reader, arguments.repeat)
                print(describe(file_format, reader, figures[reader]), flush=True)
            if arguments.record:
                print(f"recorded {record(file_format, path, figures, arguments.note)}")
    if arguments.record:
        write_results_page()


if __name__ == "__main__":
    main()
