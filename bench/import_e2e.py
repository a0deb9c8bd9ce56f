"""Import a generated users file end to end through the API and record the figures.

    python -m bench.import_e2e --rows 10000 100000 --format csv xlsx
    python -m bench.import_e2e --rows 10000 --database-url postgresql://postgres@127.0.0.1:5432/postgres

For each size and format it starts a real ``maizeplus serve`` on a fresh
database, uploads the file, polls the status until the job ends, uploads the
same file again (every row unchanged), and records rows per second and the
server's peak resident memory. Results are written to ``bench/results/`` and
the page ``bench/RESULTS.md`` is rebuilt from them.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy.engine import make_url

from bench.floor import orm_baseline, postgres_floor, sqlite_floor
from bench.generate import generate
from bench.machine import describe_machine, peak_rss_mib
from bench.report import write_results_page

BENCH_DIR = Path(__file__).parent
CACHE_DIR = BENCH_DIR / "out"
RESULTS_DIR = BENCH_DIR / "results"
PASSWORD = "bench-Passw0rd-long-enough"


@dataclass
class ImportRun:
    rows: int
    file_format: str
    database: str
    first_seconds: float
    first_rows_per_second: float
    rerun_seconds: float
    rerun_rows_per_second: float
    peak_rss_mib: float
    file_mib: float
    status: str
    measured_at: str
    machine: str
    floor_seconds: float = 0.0
    floor_rerun_seconds: float = 0.0
    baseline_rows_per_second: float = 0.0
    baseline_sample_rows: int = 0
    note: str = ""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _maizeplus(environment: dict[str, str], *arguments: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "maizeplus.cli", *arguments],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


class Database:
    """A fresh database for one run: an SQLite file, or a new PostgreSQL database."""

    def __init__(self, server_url: str | None, folder: Path) -> None:
        self.server_url = server_url
        self.name = f"maizeplus_bench_{uuid.uuid4().hex[:10]}"
        if server_url is None:
            self.url = f"sqlite:///{folder / 'bench.db'}"
            return
        with psycopg.connect(self._admin_url(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.name}"')
        self.url = make_url(server_url).set(database=self.name).render_as_string(False)

    def _admin_url(self) -> str:
        assert self.server_url is not None
        return (
            make_url(self.server_url)
            .set(drivername="postgresql", database="postgres")
            .render_as_string(False)
        )

    @property
    def kind(self) -> str:
        return "sqlite" if self.server_url is None else "postgresql"

    def drop(self) -> None:
        if self.server_url is not None:
            with psycopg.connect(self._admin_url(), autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _prepare_tenant(environment: dict[str, str]) -> dict[str, Any]:
    _maizeplus(environment, "db", "upgrade")
    _maizeplus(
        environment,
        "tenant",
        "create",
        "bench",
        "--business-units",
        "--organizational-units",
        "--language",
        "it",
    )
    client = json.loads(
        _maizeplus(environment, "client", "create", "--tenant", "bench", "--json")
    )
    _maizeplus(
        environment,
        "account",
        "create",
        "--tenant",
        "bench",
        "--username",
        "bench@example.com",
        "--password",
        PASSWORD,
        "--json",
    )
    return client


def _token(base_url: str, client: dict[str, Any]) -> str:
    response = httpx.post(
        f"{base_url}/oauth/token",
        data={
            "grant_type": "password",
            "client_id": str(client["client_id"]),
            "client_secret": client["client_secret"],
            "username": "bench@example.com",
            "password": PASSWORD,
            "scope": "*",
        },
        timeout=60,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def _timed_import(
    base_url: str, token: str, path: Path
) -> tuple[float, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"}
    started = time.monotonic()
    with (
        path.open("rb") as content,
        httpx.Client(base_url=base_url, timeout=600) as client,
    ):
        response = client.post(
            "/api/v1/import", headers=headers, files={"file": (path.name, content)}
        )
        response.raise_for_status()
        job_uuid = response.json()["data"]["uuid"]
        while True:
            data = client.get(
                f"/api/v1/import/{job_uuid}/status", headers=headers
            ).json()["data"]
            if data["status"] != "running":
                return time.monotonic() - started, data
            time.sleep(0.2)


def _start_server(environment: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "maizeplus.cli", "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if (
                httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code
                == 200
            ):
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the server did not start")


def _on_fresh_tenant(server_url: str | None, work: Any) -> Any:
    """Run ``work(database_url, tenant_id)`` on a new, migrated database with one tenant."""
    with tempfile.TemporaryDirectory(prefix="maizeplus-bench-") as folder:
        database = Database(server_url, Path(folder))
        environment = {**os.environ, "MAIZEPLUS_DATABASE_URL": database.url}
        try:
            _prepare_tenant(environment)
            return work(database.url, 1)
        finally:
            database.drop()


def measure_floor(path: Path, server_url: str | None) -> tuple[float, float]:
    """Return the floor's seconds for a first import and for the unchanged rerun."""
    floor = sqlite_floor if server_url is None else postgres_floor

    def both(database_url: str, tenant_id: int) -> tuple[float, float]:
        return floor(database_url, tenant_id, path), floor(
            database_url, tenant_id, path
        )

    result: tuple[float, float] = _on_fresh_tenant(server_url, both)
    return result


def measure_baseline(path: Path, server_url: str | None, sample_rows: int) -> float:
    """Return the rows per second of row-by-row ORM upserts on the file's first rows."""
    rate: float = _on_fresh_tenant(
        server_url,
        lambda database_url, tenant_id: orm_baseline(
            database_url, tenant_id, path, sample_rows
        ),
    )
    return rate


def run_one(
    rows: int,
    file_format: str,
    server_url: str | None,
    note: str = "",
    baseline_sample_rows: int = 20_000,
) -> ImportRun:
    CACHE_DIR.mkdir(exist_ok=True)
    path = CACHE_DIR / f"users-{rows}.{file_format}"
    if not path.exists():
        generate(path, rows, file_format)
    floor_seconds, floor_rerun_seconds = measure_floor(path, server_url)
    sample = min(rows, baseline_sample_rows)
    baseline = measure_baseline(path, server_url, sample)
    with tempfile.TemporaryDirectory(prefix="maizeplus-bench-") as folder:
        database = Database(server_url, Path(folder))
        environment = {
            **os.environ,
            "MAIZEPLUS_DATABASE_URL": database.url,
            "MAIZEPLUS_IMPORT_WORK_DIR": folder,
            "MAIZEPLUS_LOG_LEVEL": "WARNING",
            # The status polls, 5 a second, would pass the default 60 a minute.
            "MAIZEPLUS_RATE_LIMIT_API_PER_MINUTE": "100000000",
        }
        try:
            client = _prepare_tenant(environment)
            port = _free_port()
            server = _start_server(environment, port)
            try:
                base_url = f"http://127.0.0.1:{port}"
                token = _token(base_url, client)
                first_seconds, first = _timed_import(base_url, token, path)
                rerun_seconds, _rerun = _timed_import(base_url, token, path)
                peak = peak_rss_mib(server.pid)
            finally:
                server.terminate()
                server.wait(timeout=60)
        finally:
            database.drop()
    return ImportRun(
        rows=rows,
        file_format=file_format,
        database=database.kind,
        first_seconds=round(first_seconds, 2),
        first_rows_per_second=round(rows / first_seconds),
        rerun_seconds=round(rerun_seconds, 2),
        rerun_rows_per_second=round(rows / rerun_seconds),
        peak_rss_mib=round(peak, 1),
        file_mib=round(path.stat().st_size / 1024 / 1024, 1),
        status=str(first["status"]),
        measured_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        machine=describe_machine(),
        floor_seconds=round(floor_seconds, 2),
        floor_rerun_seconds=round(floor_rerun_seconds, 2),
        baseline_rows_per_second=round(baseline),
        baseline_sample_rows=sample,
        note=note,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000])
    parser.add_argument("--format", nargs="+", choices=["csv", "xlsx"], default=["csv"])
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL server URL to create the run's database on; SQLite when omitted.",
    )
    parser.add_argument(
        "--no-record", action="store_true", help="Print only; keep results as they are."
    )
    parser.add_argument(
        "--note", default="", help="A remark recorded with each run, such as the load."
    )
    parser.add_argument(
        "--baseline-rows",
        type=int,
        default=20_000,
        help="Rows of the file that the row-by-row baseline imports (it is slow).",
    )
    arguments = parser.parse_args()
    for rows in arguments.rows:
        for file_format in arguments.format:
            run = run_one(
                rows,
                file_format,
                arguments.database_url,
                arguments.note,
                arguments.baseline_rows,
            )
            print(json.dumps(asdict(run)))
            if not arguments.no_record:
                RESULTS_DIR.mkdir(exist_ok=True)
                target = (
                    RESULTS_DIR / f"import-{run.database}-{file_format}-{rows}.json"
                )
                target.write_text(json.dumps(asdict(run), indent=2) + "\n")
    if not arguments.no_record:
        write_results_page()


if __name__ == "__main__":
    main()
