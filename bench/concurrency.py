"""Measure export latency while two other tenants import a million rows each.

    python -m bench.concurrency --database-url postgresql://postgres@127.0.0.1:5432/postgres

On a fresh PostgreSQL database, the tenant ``bench`` gets ``--users`` users
with the bulk path of ``bench.floor``, and two more tenants get an OAuth
client and an account each. One ``maizeplus serve`` process serves the API
(without its import worker) and one ``maizeplus worker --concurrency 2``
applies the imports. First the export is timed alone: a page of 100 users
with every include, alternately the first and the last page, one request
after another. Then both other tenants upload ``--rows`` rows, and the same
requests are timed until both jobs end. Target: the p99 under load at most
twice the idle p99. PostgreSQL only, since SQLite has one writer at a time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bench.exports import INCLUDES, PAGE_LIMIT, percentile, users_file
from bench.floor import postgres_floor
from bench.generate import generate
from bench.machine import describe_machine
from bench.report import RESULTS_DIR, write_results_page
from bench.service import (
    add_tenant,
    fresh_service,
    running_server,
    stop,
    token,
)

CACHE_DIR = Path(__file__).parent / "out"
IMPORTING_TENANTS = ("importer-a", "importer-b")


@dataclass
class ConcurrencyRun:
    database: str
    users: int
    import_rows: int
    idle_requests: int
    idle_p50_ms: float
    idle_p99_ms: float
    loaded_requests: int
    loaded_p50_ms: float
    loaded_p99_ms: float
    p99_ratio: float
    import_seconds: list[float]
    import_statuses: list[str]
    measured_at: str
    machine: str
    note: str = ""
    # The worker's niceness (nice(1)); 0 runs it at the API's priority.
    worker_nice: int = 0


class ExportTimer:
    """Sends export requests one after another and keeps their latencies."""

    def __init__(self, base_url: str, access_token: str, last_page: int) -> None:
        address = urlsplit(base_url)
        self._connection = http.client.HTTPConnection(
            address.hostname, address.port, timeout=30
        )
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self._paths = [
            f"/api/v1/users?page={page}&limit={PAGE_LIMIT}&include={INCLUDES}"
            for page in (1, last_page)
        ]
        self._sent = 0

    def time_one(self) -> float:
        path = self._paths[self._sent % 2]
        self._sent += 1
        try:
            return self._time(path)
        except (http.client.RemoteDisconnected, ConnectionError):
            # The server closes a connection that idled past its keep-alive
            # timeout; the request is sent again on a new one.
            self._connection.close()
            return self._time(path)

    def _time(self, path: str) -> float:
        started = time.perf_counter()
        self._connection.request("GET", path, headers=self._headers)
        response = self._connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path} returned {response.status}: {body[:200]!r}")
        return (time.perf_counter() - started) * 1000

    def close(self) -> None:
        self._connection.close()


def _upload(base_url: str, access_token: str, path: Path) -> str:
    with path.open("rb") as content:
        response = httpx.post(
            f"{base_url}/api/v1/import",
            headers={"Authorization": f"Bearer {access_token}"},
            files={"file": (path.name, content)},
            timeout=600,
        )
    response.raise_for_status()
    return str(response.json()["data"]["uuid"])


def _job_status(base_url: str, access_token: str, job_uuid: str) -> str:
    response = httpx.get(
        f"{base_url}/api/v1/import/{job_uuid}/status",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["data"]["status"])


def run(
    server_url: str,
    users: int,
    rows: int,
    idle_requests: int,
    note: str,
    worker_nice: int = 0,
) -> ConcurrencyRun:
    import_file = CACHE_DIR / f"users-{rows}.csv"
    if not import_file.exists():
        generate(import_file, rows, "csv")
    with fresh_service(server_url) as service:
        postgres_floor(service.database.url, 1, users_file(users))
        importers = [
            add_tenant(service.environment, name) for name in IMPORTING_TENANTS
        ]
        command = [
            sys.executable,
            "-m",
            "maizeplus.cli",
            "worker",
            "--concurrency",
            "2",
        ]
        if worker_nice:
            command = ["nice", "-n", str(worker_nice), *command]
        worker = subprocess.Popen(
            command,
            env=service.environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            with running_server(service.environment, "--no-worker") as (base_url, _):
                timer = ExportTimer(
                    base_url, token(base_url, service.client), -(-users // PAGE_LIMIT)
                )
                for _ in range(50):
                    timer.time_one()
                idle = [timer.time_one() for _ in range(idle_requests)]

                importer_tokens = [token(base_url, client) for client in importers]
                started = time.monotonic()
                jobs = [
                    _upload(base_url, access, import_file) for access in importer_tokens
                ]
                loaded: list[float] = []
                finished: dict[str, float] = {}
                statuses: dict[str, str] = {}
                last_poll = 0.0
                while len(finished) < len(jobs):
                    loaded.append(timer.time_one())
                    if time.monotonic() - last_poll > 1:
                        last_poll = time.monotonic()
                        for job, access in zip(jobs, importer_tokens, strict=True):
                            if job in finished:
                                continue
                            status = _job_status(base_url, access, job)
                            if status != "running":
                                finished[job] = time.monotonic() - started
                                statuses[job] = status
                timer.close()
        finally:
            stop(worker)
    idle_p99 = percentile(idle, 0.99)
    loaded_p99 = percentile(loaded, 0.99)
    return ConcurrencyRun(
        database="postgresql",
        users=users,
        import_rows=rows,
        idle_requests=len(idle),
        idle_p50_ms=round(statistics.median(idle), 2),
        idle_p99_ms=round(idle_p99, 2),
        loaded_requests=len(loaded),
        loaded_p50_ms=round(statistics.median(loaded), 2),
        loaded_p99_ms=round(loaded_p99, 2),
        p99_ratio=round(loaded_p99 / idle_p99, 2),
        import_seconds=[round(finished[job], 1) for job in jobs],
        import_statuses=[statuses[job] for job in jobs],
        measured_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        machine=describe_machine(),
        note=note,
        worker_nice=worker_nice,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url",
        required=True,
        help="PostgreSQL server URL to create the run's database on.",
    )
    parser.add_argument(
        "--users", type=int, default=1_000_000, help="Users of the exporting tenant."
    )
    parser.add_argument(
        "--rows",
        type=int,
        default=1_000_000,
        help="Rows each importing tenant uploads.",
    )
    parser.add_argument(
        "--idle-requests",
        type=int,
        default=2_000,
        help="Export requests timed before the imports.",
    )
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=0,
        help="Start the worker under nice(1) with this increment (0: as the API).",
    )
    parser.add_argument("--no-record", action="store_true", help="Print only.")
    parser.add_argument("--note", default="", help="A remark recorded with the run.")
    arguments = parser.parse_args()
    result = run(
        arguments.database_url,
        arguments.users,
        arguments.rows,
        arguments.idle_requests,
        arguments.note,
        arguments.worker_nice,
    )
    print(json.dumps(asdict(result)))
    if not arguments.no_record:
        RESULTS_DIR.mkdir(exist_ok=True)
        name = f"concurrency-{result.database}-{result.users}"
        if result.worker_nice:
            name += f"-nice{result.worker_nice}"
        target = RESULTS_DIR / f"{name}.json"
        target.write_text(json.dumps(asdict(result), indent=2) + "\n")
        write_results_page()


if __name__ == "__main__":
    main()
