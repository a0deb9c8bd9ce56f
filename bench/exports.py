"""Measure the users export: a page of 100 users with every include, first and last.

    python -m bench.exports --users 10000 1000000
    python -m bench.exports --users 10000 --database-url postgresql://postgres@127.0.0.1:5432/postgres

For each size it loads that many generated users into a fresh database with
the bulk path of ``bench.floor`` and starts one ``maizeplus serve`` process
without its import worker. For the first and the last page it measures the
latency of sequential requests on one kept-alive connection (p50 and p99),
and the throughput of 8 concurrent connections with wrk when wrk is
installed (Debian's package ``wrk``). Results go to ``bench/results/`` and
the page ``bench/RESULTS.md`` is rebuilt from them.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import shutil
import statistics
import subprocess
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from bench.floor import postgres_floor, sqlite_floor
from bench.generate import generate
from bench.machine import describe_machine
from bench.report import RESULTS_DIR, write_results_page
from bench.service import fresh_service, running_server, token

CACHE_DIR = Path(__file__).parent / "out"
PAGE_LIMIT = 100
INCLUDES = "language,country,organizationalUnit.businessUnit"
WARM_UP_REQUESTS = 50
# Targets: the last page costs at most twice the first, and every page of a
# million users returns within 20 ms at p99 on PostgreSQL.


@dataclass
class PageLatency:
    """The latency of one page, sequentially and under concurrent load."""

    page: int
    requests: int
    p50_ms: float
    p99_ms: float
    wrk_requests_per_second: float | None
    wrk_p50_ms: float | None
    wrk_p99_ms: float | None


@dataclass
class ExportRun:
    database: str
    users: int
    # The first request after start-up, which builds the export's index.
    cold_request_ms: float
    first: PageLatency
    last: PageLatency
    measured_at: str
    machine: str
    note: str = ""


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))
    return ordered[index]


def sequential_latencies(
    base_url: str, path: str, access_token: str, count: int
) -> list[float]:
    """Send ``count`` GET requests one after another on one connection; return ms each."""
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
    latencies = []
    try:
        for _ in range(count):
            started = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            elapsed = (time.perf_counter() - started) * 1000
            if response.status != 200:
                raise RuntimeError(
                    f"GET {path} returned {response.status}: {body[:200]!r}"
                )
            latencies.append(elapsed)
    finally:
        connection.close()
    return latencies


def wrk_load(
    base_url: str, path: str, access_token: str, seconds: int
) -> tuple[float, float, float] | None:
    """Return wrk's requests per second, p50 and p99 in ms, or None without wrk."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    output = subprocess.run(
        [
            wrk,
            "--threads",
            "1",
            "--connections",
            "8",
            "--duration",
            f"{seconds}s",
            "--latency",
            "--header",
            f"Authorization: Bearer {access_token}",
            "--header",
            "Accept: application/json",
            f"{base_url}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    if "Non-2xx or 3xx responses" in output:
        raise RuntimeError(f"wrk saw errors:\n{output}")
    rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", output).group(1))  # type: ignore[union-attr]
    return rate, _wrk_percentile(output, "50%"), _wrk_percentile(output, "99%")


def _wrk_percentile(output: str, label: str) -> float:
    match = re.search(
        rf"^\s+{re.escape(label)}\s+([0-9.]+)(us|ms|s)\s*$", output, re.MULTILINE
    )
    if match is None:
        raise RuntimeError(f"no {label} latency in wrk's output:\n{output}")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def page_path(page: int) -> str:
    return f"/api/v1/users?page={page}&limit={PAGE_LIMIT}&include={INCLUDES}"


def measure_page(
    base_url: str, access_token: str, page: int, requests: int, wrk_seconds: int
) -> PageLatency:
    path = page_path(page)
    sequential_latencies(base_url, path, access_token, WARM_UP_REQUESTS)
    latencies = sequential_latencies(base_url, path, access_token, requests)
    loaded = (
        wrk_load(base_url, path, access_token, wrk_seconds) if wrk_seconds else None
    )
    return PageLatency(
        page=page,
        requests=requests,
        p50_ms=round(statistics.median(latencies), 2),
        p99_ms=round(percentile(latencies, 0.99), 2),
        wrk_requests_per_second=None if loaded is None else round(loaded[0]),
        wrk_p50_ms=None if loaded is None else round(loaded[1], 2),
        wrk_p99_ms=None if loaded is None else round(loaded[2], 2),
    )


def users_file(users: int) -> Path:
    CACHE_DIR.mkdir(exist_ok=True)
    path = CACHE_DIR / f"users-{users}.csv"
    if not path.exists():
        generate(path, users, "csv")
    return path


def run_one(
    users: int, server_url: str | None, requests: int, wrk_seconds: int, note: str
) -> ExportRun:
    path = users_file(users)
    load = sqlite_floor if server_url is None else postgres_floor
    with fresh_service(server_url) as service:
        load(service.database.url, 1, path)
        with running_server(service.environment, "--no-worker") as (base_url, _server):
            access_token = token(base_url, service.client)
            last_page = -(-users // PAGE_LIMIT)
            cold = sequential_latencies(base_url, page_path(1), access_token, 1)[0]
            first = measure_page(base_url, access_token, 1, requests, wrk_seconds)
            last = measure_page(
                base_url, access_token, last_page, requests, wrk_seconds
            )
    return ExportRun(
        database=service.database.kind,
        users=users,
        cold_request_ms=round(cold, 1),
        first=first,
        last=last,
        measured_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        machine=describe_machine(),
        note=note,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=[10_000])
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL server URL to create the run's database on; SQLite when omitted.",
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=2_000,
        help="Sequential requests per page, for p50 and p99.",
    )
    parser.add_argument(
        "--wrk-seconds",
        type=int,
        default=10,
        help="Seconds of concurrent load per page; 0 skips wrk.",
    )
    parser.add_argument(
        "--no-record", action="store_true", help="Print only; keep results as they are."
    )
    parser.add_argument(
        "--note", default="", help="A remark recorded with each run, such as the load."
    )
    arguments = parser.parse_args()
    for users in arguments.users:
        run = run_one(
            users,
            arguments.database_url,
            arguments.requests,
            arguments.wrk_seconds,
            arguments.note,
        )
        print(json.dumps(asdict(run)))
        if not arguments.no_record:
            RESULTS_DIR.mkdir(exist_ok=True)
            target = RESULTS_DIR / f"export-{run.database}-{users}.json"
            target.write_text(json.dumps(asdict(run), indent=2) + "\n")
    if not arguments.no_record:
        write_results_page()


if __name__ == "__main__":
    main()
