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
    PAGE.write_text("\n".join(lines) + "\n")
    return PAGE
