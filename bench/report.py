"""Rebuild ``bench/RESULTS.md`` from the recorded JSON results."""

from __future__ import annotations

import json
from pathlib import Path

BENCH_DIR = Path(__file__).parent
RESULTS_DIR = BENCH_DIR / "results"
PAGE = BENCH_DIR / "RESULTS.md"


# The import targets, as ratios measured in the same run.
CSV_FLOOR_RATIO = 1.5
XLSX_FLOOR_RATIO = 2.0
BASELINE_SPEEDUP = 20.0
RERUN_SPEEDUP = 3.0
PEAK_RSS_MIB = 300.0


def _verdict(met: bool) -> str:
    return "met" if met else "**not met**"


def _targets(run: dict) -> tuple[str, str, str, str]:  # type: ignore[type-arg]
    """Return the floor ratio, baseline speedup and rerun speedup cells, and the verdicts."""
    floor = run.get("floor_seconds") or 0
    baseline = run.get("baseline_rows_per_second") or 0
    ratio = run["first_seconds"] / floor if floor else None
    speedup = run["first_rows_per_second"] / baseline if baseline else None
    rerun = (
        run["first_seconds"] / run["rerun_seconds"] if run["rerun_seconds"] else None
    )
    limit = CSV_FLOOR_RATIO if run["file_format"] == "csv" else XLSX_FLOOR_RATIO
    verdicts = []
    if ratio is not None:
        verdicts.append(f"floor x{limit}: {_verdict(ratio <= limit)}")
    if speedup is not None:
        verdicts.append(
            f"baseline x{BASELINE_SPEEDUP:g}: {_verdict(speedup >= BASELINE_SPEEDUP)}"
        )
    if rerun is not None:
        verdicts.append(f"rerun x{RERUN_SPEEDUP:g}: {_verdict(rerun >= RERUN_SPEEDUP)}")
    verdicts.append(f"RSS: {_verdict(run['peak_rss_mib'] < PEAK_RSS_MIB)}")
    return (
        "" if ratio is None else f"{ratio:.2f}",
        "" if speedup is None else f"{speedup:.1f}",
        "" if rerun is None else f"{rerun:.2f}",
        "; ".join(verdicts),
    )


def write_results_page() -> Path:
    runs = [
        json.loads(path.read_text())
        for path in sorted(RESULTS_DIR.glob("import-*.json"))
    ]
    runs.sort(key=lambda run: (run["database"], run["file_format"], run["rows"]))
    lines = [
        "# Benchmark results",
        "",
        "Written by `python -m bench.import_e2e`; do not edit by hand. Reproduce a row",
        "with `python -m bench.import_e2e --rows N --format csv xlsx`, adding",
        "`--database-url postgresql://postgres@127.0.0.1:5432/postgres` for PostgreSQL.",
        "",
        "## Import end to end through the API",
        "",
        "Upload to the end of the job (status polled every 0.2 s), on a fresh",
        "database, with the worker of `maizeplus serve`. The rerun uploads",
        "the same file again, so every row is unchanged. Peak RSS is the server",
        "process's VmHWM over both runs; it includes the token request, whose",
        "Argon2id hash takes 64 MiB by default. The server alone idles at about 60 MiB.",
        "",
        "Measured in the same run: the floor (`bench/floor.py`: the fastest reader and",
        "the database's bulk path, no rules checked; its rerun upserts every row",
        "again) and the baseline (one ORM lookup and flush per row, on the file's",
        "first rows). Targets: at most 1.5 times the floor for CSV and 2 times for",
        "XLSX, at least 20 times the baseline's speed, a rerun at least 3 times",
        "faster than the first run, and a peak RSS under 300 MB.",
        "",
        "| database | format | rows | file MiB | first run s | rows/s | rerun s | rows/s | floor s | floor rerun s | x floor | baseline rows/s | x baseline | first / rerun | peak RSS MiB | targets | status | measured | machine | note |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | --- | --- |",
    ]
    for run in runs:
        ratio, speedup, rerun, verdicts = _targets(run)
        lines.append(
            f"| {run['database']} | {run['file_format']} | {run['rows']:,} | {run['file_mib']} "
            f"| {run['first_seconds']} | {run['first_rows_per_second']:,} | {run['rerun_seconds']} "
            f"| {run['rerun_rows_per_second']:,} | {run.get('floor_seconds', '')} "
            f"| {run.get('floor_rerun_seconds', '')} | {ratio} "
            f"| {run.get('baseline_rows_per_second', '')} | {speedup} | {rerun} "
            f"| {run['peak_rss_mib']} | {verdicts} | {run['status']} "
            f"| {run['measured_at']} | {run['machine']} | {run.get('note', '')} |"
        )
    lines += _reader_lines()
    PAGE.write_text("\n".join(lines) + "\n")
    return PAGE


# The reader targets. A million-row XLSX import may take at most 2 times the
# floor, whose python-calamine reader keeps the whole sheet in memory, and
# that needs about 100,000 rows a second from our reader in bounded memory.
XLSX_READER_ROWS_PER_SECOND = 100_000
READER_ADDED_RSS_MIB = 100.0


def _reader_lines() -> list[str]:
    """Return the section of the reader benchmarks (``bench.readers --record``)."""
    runs = [
        json.loads(path.read_text())
        for path in sorted(RESULTS_DIR.glob("readers-*.json"))
    ]
    runs.sort(key=lambda run: (run["file_format"], run["rows"]))
    lines = [
        "",
        "## Readers",
        "",
        "Written by `python -m bench.readers --record`. Reproduce a row with",
        "`python -m bench.readers --rows N --format xlsx --repeat 3 --calamine`",
        "(after `.venv/bin/pip install python-calamine`). Each reader reads the",
        "whole generated file (`bench/generate.py`, Excel's layout with shared",
        "strings) in a fresh process, as one pass of an import does; an import",
        "reads the file twice. `maizeplus` is `open_sheet`, `expat` the XLSX reader",
        "with its scanners off (every element through expat's handlers, as before",
        "them), `calamine` python-calamine, the floor's reader, which keeps the",
        "whole sheet in memory. Time is wall-clock, the best of the runs, then the",
        "slowest; the machine is shared, so the spread shows the noise. Peak RSS is",
        'the process\'s VmHWM, and "added" its rise while reading. Targets for',
        f"XLSX: at least {XLSX_READER_ROWS_PER_SECOND:,} rows/s on a million rows",
        f"and under {READER_ADDED_RSS_MIB:.0f} MiB added while reading.",
        "",
        "| format | rows | file MiB | reader | best s | slowest s | runs | rows/s | CPU s | x expat | peak RSS MiB | added MiB | traced Python MiB | measured | machine | note |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |",
    ]
    for run in runs:
        expat = run["readers"].get("expat")
        for reader, figures in run["readers"].items():
            speedup = (
                f"{expat['best_seconds'] / figures['best_seconds']:.2f}"
                if expat
                else ""
            )
            lines.append(
                f"| {run['file_format']} | {figures['rows']:,} | {run['file_mib']} "
                f"| {reader} | {figures['best_seconds']} | {figures['slowest_seconds']} "
                f"| {figures['runs']} | {figures['rows_per_second']:,} "
                f"| {figures['cpu_seconds']} | {speedup} | {figures['peak_rss_mib']} "
                f"| {figures['rss_added_mib']} | {figures.get('traced_peak_mib', '')} "
                f"| {run['measured_at']} | {run['machine']} | {run.get('note', '')} |"
            )
    return lines
