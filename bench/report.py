"""Rebuild ``bench/RESULTS.md`` from the recorded JSON results."""

from __future__ import annotations

import json
from pathlib import Path

BENCH_DIR = Path(__file__).parent
RESULTS_DIR = BENCH_DIR / "results"
PAGE = BENCH_DIR / "RESULTS.md"
# The hand-written reasons for each target that the last runs did not meet.
GAPS = BENCH_DIR / "gaps.md"


# The import targets, as ratios measured in the same run.
CSV_FLOOR_RATIO = 1.5
XLSX_FLOOR_RATIO = 2.0
BASELINE_SPEEDUP = 20.0
RERUN_SPEEDUP = 3.0
PEAK_RSS_MIB = 300.0
# The export targets: the last page of a million users costs at most twice
# the first, every page returns within 20 ms at p99 on PostgreSQL, and under
# two tenants' imports the p99 stays within twice its idle value.
LAST_PAGE_RATIO = 2.0
EXPORT_P99_MS = 20.0
EXPORT_TARGET_USERS = 1_000_000
LOADED_P99_RATIO = 2.0
# The bearer check adds under 1 ms to a request at p99.
BEARER_P99_MS = 1.0


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


def _load(pattern: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(path.read_text()) for path in sorted(RESULTS_DIR.glob(pattern))]


def write_results_page() -> Path:
    lines = _import_section() + _export_section() + _auth_section()
    lines += _concurrency_section() + _reader_lines()
    lines += ["", *GAPS.read_text().splitlines()]
    PAGE.write_text("\n".join(lines) + "\n")
    return PAGE


def _import_section() -> list[str]:
    runs = _load("import-*.json")
    runs.sort(key=lambda run: (run["database"], run["file_format"], run["rows"]))
    lines: list[str] = [
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
        "Measured in the same run: the floor (`bench/floor.py`: the fastest reader,",
        "`csv.reader` or python-calamine for XLSX, which holds the whole sheet in",
        "memory, and the database's bulk path, no rules checked; its rerun upserts",
        "every row again) and the baseline (row-by-row ORM upserts: one lookup by",
        "email, then an insert or update committed on its own, on the file's first",
        "rows). Targets:",
        "at most 1.5 times the floor for CSV and 2 times for XLSX, at least 20 times",
        "the baseline's speed, a rerun at least 3 times faster than the first run,",
        "and a peak RSS under 300 MB.",
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
    return lines


def _export_section() -> list[str]:
    lines = [
        "",
        "## Users export",
        "",
        "Written by `python -m bench.exports --users 10000 1000000`, adding",
        "`--database-url ...` for PostgreSQL. A page of 100 users with every",
        "include (`language,country,organizationalUnit.businessUnit`), from one",
        "`maizeplus serve` process: p50 and p99 of sequential requests on one",
        "kept-alive connection after 50 warm-up requests, and requests per second",
        "with wrk (1 thread, 8 connections, 10 s). The first request after start-up",
        "builds the export's index with one scan (`docs/exports.md`) and is listed",
        "apart. The users are loaded with the",
        "bulk path of `bench/floor.py`. Targets: the last page of a million users",
        f"at most {LAST_PAGE_RATIO:g} times the first (p50), and every page of a",
        f"million users under {EXPORT_P99_MS:g} ms at p99 on PostgreSQL.",
        "",
        "| database | users | first request ms | first page p50 ms | p99 ms | req/s | last page | p50 ms | p99 ms | req/s | last / first p50 | targets | measured | machine | note |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | --- |",
    ]
    for run in sorted(
        _load("export-*.json"), key=lambda run: (run["database"], run["users"])
    ):
        first, last = run["first"], run["last"]
        ratio = last["p50_ms"] / first["p50_ms"]
        verdicts = []
        if run["users"] >= EXPORT_TARGET_USERS:
            verdicts.append(
                f"last x{LAST_PAGE_RATIO:g}: {_verdict(ratio <= LAST_PAGE_RATIO)}"
            )
            if run["database"] == "postgresql":
                worst = max(first["p99_ms"], last["p99_ms"])
                verdicts.append(
                    f"p99 {EXPORT_P99_MS:g} ms: {_verdict(worst < EXPORT_P99_MS)}"
                )
        lines.append(
            f"| {run['database']} | {run['users']:,} | {run.get('cold_request_ms', '')} "
            f"| {first['p50_ms']} | {first['p99_ms']} "
            f"| {first['wrk_requests_per_second'] or ''} | {last['page']:,} | {last['p50_ms']} "
            f"| {last['p99_ms']} | {last['wrk_requests_per_second'] or ''} | {ratio:.2f} "
            f"| {'; '.join(verdicts)} | {run['measured_at']} | {run['machine']} | {run.get('note', '')} |"
        )
    return lines


def _auth_section() -> list[str]:
    lines = [
        "",
        "## Authentication",
        "",
        "Written by `python -m bench.auth`, adding `--database-url ...` for",
        "PostgreSQL. The bearer check is the lookup that every API request makes,",
        "timed in process on the service's async engine against a database holding",
        "the stated number of access tokens: alone, in a transaction already begun,",
        "as in a request that reads (a request opens its session for its own",
        "queries anyway), and with a session, BEGIN and COMMIT of its own, as in a",
        "request with a body, which commits before it reads the body. The",
        "token endpoint is a password grant through `maizeplus serve` with the",
        "production Argon2id settings; its cost is two hash verifications (client",
        "secret and password) by design, and one verification is timed alone.",
        f"Target: the bearer check under {BEARER_P99_MS:g} ms at p99.",
        "",
        "| database | tokens stored | bearer checks | lookup p50 ms | lookup p99 ms | own transaction p50 ms | p99 ms | token requests | p50 ms | p99 ms | one Argon2id verify ms | hash settings | target | measured | machine | note |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | --- | --- |",
    ]
    for run in _load("auth-*.json"):
        verdict = _verdict(run["bearer_p99_ms"] < BEARER_P99_MS)
        lines.append(
            f"| {run['database']} | {run['tokens']:,} | {run['bearer_checks']:,} "
            f"| {run['bearer_p50_ms']} | {run['bearer_p99_ms']} "
            f"| {run.get('session_p50_ms', '')} | {run.get('session_p99_ms', '')} "
            f"| {run['token_requests']} "
            f"| {run['token_p50_ms']} | {run['token_p99_ms']} | {run['hash_verify_ms']} "
            f"| time cost {run['hash_time_cost']}, {run['hash_memory_kib'] // 1024} MiB "
            f"| bearer p99 {BEARER_P99_MS:g} ms: {verdict} | {run['measured_at']} "
            f"| {run['machine']} | {run.get('note', '')} |"
        )
    return lines


def _concurrency_section() -> list[str]:
    lines = [
        "",
        "## Exports during other tenants' imports",
        "",
        "Written by `python -m bench.concurrency --database-url ...` (PostgreSQL",
        "only). One tenant's users export (first and last page of 100 with every",
        "include, alternately, one request after another) is timed alone, then",
        "while two other tenants each import a CSV file through one",
        "`maizeplus worker --concurrency 2`; the API runs in one `maizeplus serve`",
        f"process. Target: the p99 under load at most {LOADED_P99_RATIO:g} times the",
        "idle p99. With `--worker-nice N` the worker runs under `nice -n N`, as an",
        "operator may start it; the PostgreSQL backends that serve it keep their",
        "priority.",
        "",
        "| database | users | rows per import | worker nice | idle p50 ms | idle p99 ms | loaded requests | loaded p50 ms | loaded p99 ms | p99 ratio | import s | target | measured | machine | note |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | --- | --- |",
    ]
    for run in _load("concurrency-*.json"):
        verdict = _verdict(run["p99_ratio"] <= LOADED_P99_RATIO)
        seconds = ", ".join(f"{value:g}" for value in run["import_seconds"])
        lines.append(
            f"| {run['database']} | {run['users']:,} | {run['import_rows']:,} "
            f"| {run.get('worker_nice', 0)} | {run['idle_p50_ms']} | {run['idle_p99_ms']} | {run['loaded_requests']:,} "
            f"| {run['loaded_p50_ms']} | {run['loaded_p99_ms']} | {run['p99_ratio']} "
            f"| {seconds} | p99 x{LOADED_P99_RATIO:g}: {verdict} | {run['measured_at']} "
            f"| {run['machine']} | {run.get('note', '')} |"
        )
    return lines


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
        "`python -m bench.readers --rows N --format xlsx --repeat 3 --calamine`.",
        "Each reader reads the",
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
