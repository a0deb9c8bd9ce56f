"""Rebuild ``bench/RESULTS.md`` from the recorded JSON results."""

from __future__ import annotations

import json
from pathlib import Path

BENCH_DIR = Path(__file__).parent
RESULTS_DIR = BENCH_DIR / "results"
PAGE = BENCH_DIR / "RESULTS.md"


def write_results_page() -> Path:
    runs = [
        json.loads(path.read_text())
        for path in sorted(RESULTS_DIR.glob("import-*.json"))
    ]
    runs.sort(key=lambda run: (run["database"], run["file_format"], run["rows"]))
    lines = [
        "# Benchmark results",
        "",
        "Written by `python -m bench.import_e2e`; do not edit by hand.",
        "",
        "## Import end to end through the API",
        "",
        "Upload to the end of the job (status polled every 0.2 s), on a fresh",
        "database, with the embedded runner of `maizeplus serve`. The rerun uploads",
        "the same file again, so every row is unchanged. Peak RSS is the server",
        "process's VmHWM over both runs; it includes the token request, whose",
        "Argon2id hash takes 64 MiB by default. The server alone idles at about 60 MiB.",
        "",
        "| database | format | rows | file MiB | first run s | rows/s | rerun s | rows/s | peak RSS MiB | status | measured | machine | note |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | --- |",
    ]
    for run in runs:
        lines.append(
            f"| {run['database']} | {run['file_format']} | {run['rows']:,} | {run['file_mib']} "
            f"| {run['first_seconds']} | {run['first_rows_per_second']:,} | {run['rerun_seconds']} "
            f"| {run['rerun_rows_per_second']:,} | {run['peak_rss_mib']} | {run['status']} "
            f"| {run['measured_at']} | {run['machine']} | {run.get('note', '')} |"
        )
    PAGE.write_text("\n".join(lines) + "\n")
    return PAGE
