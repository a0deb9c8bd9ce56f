"""Drive a mixed load at three tenants on PostgreSQL, then check that nothing was lost.

    pip install -e '.[load]'
    python -m bench.load --database-url postgresql://postgres@127.0.0.1:5432/postgres --minutes 3 --users 30

On a fresh PostgreSQL database it creates three tenants with business and
organizational units, each with an OAuth client and an account, and starts
two ``maizeplus serve --no-worker`` processes on free loopback ports and two
``maizeplus worker`` processes. The rate limits count in Redis under a
prefix of this run, and are raised so that the mix is not throttled. Each
tenant gets ``--preloaded-users`` users through one import, then a
catalogue and its users' progress (``maizeplus catalog load`` and
``progress load``).

locust then runs ``bench/locustfile.py`` headless for ``--minutes`` with
``--users`` simulated users, each bound to one tenant and one API process:
exports, status polls, uploads of small CSV files followed by polls until
the job ends, and rare password grants. Once the load ends and every job
has ended, the processes stop and ``bench.load_check`` compares every job
and every tenant's users with the uploaded files, and reads the server and
worker logs.

The figures go to ``bench/results/load-postgresql.json`` and the results
section of ``docs/load.md``, unless ``--no-record``. Logs, locust's CSV
statistics and the uploaded files stay in ``--output``. The exit status is
1 when a response was a 5xx, another error than 429, or missing, when a
check found a problem, or when a log contains a traceback.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import math
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import psycopg
import redis
from sqlalchemy.engine import make_url

from bench.load_check import check_jobs, check_logs
from bench.load_data import (
    csv_bytes,
    preload_file_name,
    preloaded_rows,
    write_catalogue,
    write_progress,
)
from bench.load_report import (
    request_figures,
    status_figures,
    write_load_section,
)
from bench.machine import describe_machine
from bench.service import (
    PASSWORD,
    USERNAME,
    BenchService,
    add_tenant,
    free_port,
    fresh_service,
    maizeplus,
    start_server,
    stop,
    token,
)

LOCUSTFILE = Path(__file__).parent / "locustfile.py"
ROOT = Path(__file__).parent.parent
TENANTS = ("bench", "bench-2", "bench-3")
API_PROCESSES = 2
WORKERS = 2
WORKER_CONCURRENCY = 2
# How long simulated users may finish the task in hand once the time is up.
STOP_TIMEOUT_SECONDS = 30
# How often a simulated user polls its job's status, and for how long at most.
POLL_SECONDS = 0.5
POLL_TIMEOUT_SECONDS = 120
MAX_MINUTES = 60
MAX_USERS = 300


def _say(started: float, text: str) -> None:
    print(f"[{time.monotonic() - started:5.0f} s] {text}", flush=True)


def _interrupt_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _tenant_id(database_url: str, name: str) -> int:
    with psycopg.connect(database_url) as connection:
        row = connection.execute(
            "SELECT id FROM tenants WHERE name = %s", (name,)
        ).fetchone()
    if row is None:
        raise RuntimeError(f"tenant {name} not found after it was created")
    return int(row[0])


def _start_worker(
    environment: dict[str, str], name: str, log: Any
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "maizeplus.cli",
            "worker",
            "--concurrency",
            str(WORKER_CONCURRENCY),
            "--name",
            name,
        ],
        env=environment,
        stdout=log,
        stderr=log,
    )


def _wait_for_workers(
    database_url: str, processes: list[subprocess.Popen[bytes]]
) -> None:
    """Wait until every worker has written its first heartbeat."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(
                    f"worker {process.pid} exited with {process.returncode}"
                )
        with psycopg.connect(database_url) as connection:
            row = connection.execute(
                "SELECT count(*) FROM procrastinate_workers"
            ).fetchone()
        if row is not None and row[0] >= len(processes):
            return
        time.sleep(0.2)
    raise RuntimeError("the workers wrote no heartbeat within 60 s")


def _import_and_wait(
    base_url: str, access_token: str, name: str, content: bytes, timeout: float
) -> str:
    """Upload a file, poll its job until it ends and return its status."""
    headers = {"Authorization": f"Bearer {access_token}"}
    response = httpx.post(
        f"{base_url}/api/v1/import",
        headers=headers,
        files={"file": (name, content, "text/csv")},
        timeout=120,
    )
    response.raise_for_status()
    job_uuid = response.json()["data"]["uuid"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status_response = httpx.get(
            f"{base_url}/api/v1/import/{job_uuid}/status", headers=headers, timeout=30
        )
        status_response.raise_for_status()
        status = str(status_response.json()["data"]["status"])
        if status != "running":
            return status
        time.sleep(0.2)
    raise RuntimeError(f"the import of {name} did not end within {timeout:.0f} s")


def _preload_tenant(
    environment: dict[str, str],
    folder: Path,
    base_url: str,
    index: int,
    client: dict[str, Any],
    preloaded: int,
    uploads_dir: Path,
    with_catalogue: bool,
) -> int:
    """Import a tenant's users and load its catalogue and progress; return progress records."""
    name = TENANTS[index]
    rows = preloaded_rows(index, preloaded)
    content = csv_bytes(rows)
    (uploads_dir / preload_file_name(index)).write_bytes(content)
    status = _import_and_wait(
        base_url,
        token(base_url, client),
        preload_file_name(index),
        content,
        timeout=120 + preloaded / 500,
    )
    if status != "completed":
        raise RuntimeError(f"the preload import of {name} ended {status}")
    if not with_catalogue:
        return 0
    catalogue = write_catalogue(folder / f"catalogue-{index}.json")
    maizeplus(environment, "catalog", "load", "--tenant", name, str(catalogue))
    progress = folder / f"progress-{index}.csv"
    records = write_progress(progress, rows)
    maizeplus(environment, "progress", "load", "--tenant", name, str(progress))
    return records


def _run_locust(arguments: argparse.Namespace, config_path: Path, output: Path) -> None:
    """Run locust headless for the run's time, and wait for it to write its samples."""
    seconds = max(1, round(arguments.minutes * 60))
    spawn_rate = max(1.0, arguments.users / 5)
    command = [
        sys.executable,
        "-m",
        "locust",
        "--locustfile",
        str(LOCUSTFILE),
        "--headless",
        "--users",
        str(arguments.users),
        "--spawn-rate",
        str(spawn_rate),
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        str(STOP_TIMEOUT_SECONDS),
        "--only-summary",
        "--logfile",
        str(output / "locust.log"),
        # The checks after the run decide the exit status, not locust.
        "--exit-code-on-error",
        "0",
    ]
    environment = {
        **os.environ,
        "MAIZEPLUS_LOAD_CONFIG": str(config_path),
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
        ),
    }
    with (output / "locust.out").open("wb") as log:
        locust = subprocess.Popen(
            command, env=environment, stdout=log, stderr=log, cwd=ROOT
        )
        try:
            returncode = locust.wait(timeout=seconds + STOP_TIMEOUT_SECONDS + 120)
        finally:
            stop(locust)
    if returncode != 0:
        raise RuntimeError(
            f"locust exited with {returncode}; see {output / 'locust.out'}"
        )


def _wait_for_jobs(database_url: str, timeout: float) -> int:
    """Wait until no job is running; return how many still run at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        with psycopg.connect(database_url) as connection:
            row = connection.execute(
                "SELECT count(*) FROM import_jobs WHERE status = 'running'"
            ).fetchone()
        running = int(row[0]) if row else 0
        if running == 0 or time.monotonic() >= deadline:
            return running
        time.sleep(0.5)


def _delete_redis_keys(redis_url: str, prefix: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def _start_processes(
    stack: ExitStack, environment: dict[str, str], logs_dir: Path
) -> list[str]:
    """Start the workers and the API servers, each stopped by ``stack``; return the servers' URLs."""
    workers = []
    for number in range(1, WORKERS + 1):
        log = stack.enter_context((logs_dir / f"worker-{number}.log").open("wb"))
        worker = _start_worker(environment, f"load-worker-{number}", log)
        stack.callback(stop, worker)
        workers.append(worker)
    servers = []
    for number in range(1, API_PROCESSES + 1):
        log = stack.enter_context((logs_dir / f"api-{number}.log").open("wb"))
        port = free_port()
        server = start_server(
            environment, port, "--no-worker", "--host", "127.0.0.1", log=log
        )
        stack.callback(stop, server)
        servers.append(f"http://127.0.0.1:{port}")
    _wait_for_workers(environment["MAIZEPLUS_DATABASE_URL"], workers)
    return servers


def _preload(
    arguments: argparse.Namespace,
    service: BenchService,
    base_url: str,
    clients: list[dict[str, Any]],
    uploads_dir: Path,
) -> int:
    """Preload every tenant at once; return the progress records loaded."""
    # One thread a tenant, since most of the time goes to waiting for an
    # import or for a maizeplus command to start.
    with ThreadPoolExecutor(len(TENANTS)) as pool:
        return sum(
            pool.map(
                partial(
                    _preload_tenant,
                    service.environment,
                    service.folder,
                    base_url,
                    preloaded=arguments.preloaded_users,
                    uploads_dir=uploads_dir,
                    with_catalogue=not arguments.no_catalogue,
                ),
                range(len(TENANTS)),
                clients,
            )
        )


def _write_locust_config(
    path: Path,
    arguments: argparse.Namespace,
    servers: list[str],
    clients: list[dict[str, Any]],
    output: Path,
) -> None:
    """Write what ``bench/locustfile.py`` reads, readable by this user only."""
    config = {
        "servers": servers,
        "tenants": [
            {
                "client_id": client["client_id"],
                "client_secret": client["client_secret"],
                "username": USERNAME,
                "password": PASSWORD,
                "preloaded_users": arguments.preloaded_users,
            }
            for client in clients
        ],
        "shares": math.ceil(arguments.users / len(TENANTS)),
        "new_rows": arguments.new_rows,
        "changed_rows": arguments.changed_rows,
        "wait_seconds": arguments.wait_seconds,
        "poll_seconds": POLL_SECONDS,
        "poll_timeout_seconds": POLL_TIMEOUT_SECONDS,
        "uploads_dir": str(output / "uploads"),
        "manifest_path": str(output / "uploads.jsonl"),
        "samples_path": str(output / "requests.json"),
    }
    # The file contains the clients' secrets and the password.
    path.touch(mode=0o600)
    path.write_text(json.dumps(config), encoding="utf-8")


def run_load(arguments: argparse.Namespace) -> dict[str, Any]:
    """Set up the service, drive the load, check the outcome; return the run's figures."""
    output: Path = arguments.output
    shutil.rmtree(output, ignore_errors=True)
    uploads_dir, logs_dir = output / "uploads", output / "logs"
    uploads_dir.mkdir(parents=True)
    logs_dir.mkdir()
    prefix = f"maizeplus:load:{uuid.uuid4().hex[:12]}:"
    started = time.monotonic()
    settings = {
        # The production level and format, so that every logged error counts.
        "MAIZEPLUS_LOG_LEVEL": "INFO",
        "MAIZEPLUS_LOG_JSON": "true",
        "MAIZEPLUS_RATE_LIMIT_REDIS_URL": arguments.redis_url,
        "MAIZEPLUS_RATE_LIMIT_REDIS_PREFIX": prefix,
        # Far above what the mix sends, so that a 429 is a finding.
        "MAIZEPLUS_RATE_LIMIT_API_PER_MINUTE": "100000000",
        "MAIZEPLUS_RATE_LIMIT_TOKEN_PER_MINUTE": "100000000",
    }
    try:
        with (
            fresh_service(arguments.database_url, settings) as service,
            ExitStack() as processes,
        ):
            database_url = service.database.url
            _say(started, f"database {service.database.name}: creating the tenants")
            clients = [service.client] + [
                add_tenant(service.environment, name) for name in TENANTS[1:]
            ]
            tenant_ids = [_tenant_id(database_url, name) for name in TENANTS]
            servers = _start_processes(processes, service.environment, logs_dir)
            _say(started, f"preloading {arguments.preloaded_users:,} users a tenant")
            progress_records = _preload(
                arguments, service, servers[0], clients, uploads_dir
            )
            config_path = service.folder / "locust-config.json"
            _write_locust_config(config_path, arguments, servers, clients, output)
            setup_seconds = time.monotonic() - started

            _say(started, f"load: {arguments.users} users, {arguments.minutes:g} min")
            _run_locust(arguments, config_path, output)
            _say(started, "waiting for the jobs to end")
            drain_started = time.monotonic()
            still_running = _wait_for_jobs(database_url, arguments.drain_seconds)
            drain_seconds = time.monotonic() - drain_started
            _say(started, "stopping the processes")
            processes.close()

            _say(started, "checking the jobs, the users and the logs")
            jobs = check_jobs(
                database_url, tenant_ids, uploads_dir, output / "uploads.jsonl"
            )
            if still_running:
                jobs.problem(
                    f"{still_running} jobs still ran {arguments.drain_seconds:g} s "
                    "after the load"
                )
            logs = check_logs(sorted(logs_dir.glob("*.log")))
    finally:
        _delete_redis_keys(arguments.redis_url, prefix)

    requests, overall, seconds = request_figures(output / "requests.json")
    return {
        "database": "postgresql",
        "command": _command(arguments),
        "users": arguments.users,
        "minutes": arguments.minutes,
        "setup_seconds": round(setup_seconds, 1),
        "load_seconds": round(seconds, 1),
        "drain_seconds": round(drain_seconds, 1),
        "tenants": len(TENANTS),
        "preloaded_users": arguments.preloaded_users,
        "progress_records": progress_records,
        "new_rows": arguments.new_rows,
        "changed_rows": arguments.changed_rows,
        "wait_seconds": arguments.wait_seconds,
        "api_processes": API_PROCESSES,
        "workers": WORKERS,
        "worker_concurrency": WORKER_CONCURRENCY,
        "locust_version": importlib.metadata.version("locust"),
        "requests": requests,
        "overall": overall,
        "statuses": status_figures(output / "requests.json"),
        # locust warns when its own process used over 90 % of a core, which
        # may hold back the load and lengthen the times it measures.
        "locust_cpu_warning": "CPU usage"
        in (output / "locust.log").read_text(encoding="utf-8", errors="replace"),
        "jobs": {**asdict(jobs), "lost_rows": jobs.lost_rows},
        "logs": asdict(logs),
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": describe_machine(),
        "note": arguments.note,
    }


def _command(arguments: argparse.Namespace) -> str:
    """Return the command line that repeats the run, without the output options."""
    parts = [
        "python -m bench.load",
        "--database-url "
        + shlex.quote(
            make_url(arguments.database_url).render_as_string(hide_password=True)
        ),
        f"--minutes {arguments.minutes:g}",
        f"--users {arguments.users}",
    ]
    defaults = _parser().parse_args(["--database-url", arguments.database_url])
    for option in ("preloaded_users", "new_rows", "changed_rows"):
        value = getattr(arguments, option)
        if value != getattr(defaults, option):
            parts.append(f"--{option.replace('_', '-')} {value}")
    if arguments.wait_seconds != defaults.wait_seconds:
        parts.append("--wait-seconds " + " ".join(map(str, arguments.wait_seconds)))
    if arguments.no_catalogue:
        parts.append("--no-catalogue")
    return " ".join(parts)


def passed(run: dict[str, Any]) -> bool:
    """Return whether the run met its targets; a 429 alone does not fail it."""
    statuses, jobs, logs = run["statuses"], run["jobs"], run["logs"]
    return not (
        statuses["server_errors"]
        or statuses["other_client_errors"]
        or statuses["no_response"]
        or jobs["problem_count"]
        or logs["tracebacks"]
        or any(status.startswith("5") for status in logs["access_statuses"])
        or run["overall"]["failures"] > statuses["too_many_requests"]
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url",
        required=True,
        help="PostgreSQL server URL to create the run's database on.",
    )
    parser.add_argument(
        "--minutes", type=float, default=3.0, help="Duration of the load, in minutes."
    )
    parser.add_argument(
        "--users", type=int, default=30, help="Simulated users, spread over 3 tenants."
    )
    parser.add_argument(
        "--preloaded-users",
        type=int,
        default=5_000,
        help="Users that each tenant gets through one import before the load.",
    )

    parser.add_argument(
        "--new-rows", type=int, default=200, help="New users in each upload."
    )
    parser.add_argument(
        "--changed-rows",
        type=int,
        default=100,
        help="Preloaded users that each upload changes.",
    )
    parser.add_argument(
        "--wait-seconds",
        type=float,
        nargs=2,
        default=[0.1, 0.5],
        metavar=("MIN", "MAX"),
        help="Range of a simulated user's random pause between two tasks, in seconds.",
    )

    parser.add_argument(
        "--no-catalogue",
        action="store_true",
        help="Skip the catalogue and progress, so their exports return empty pages.",
    )
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/0",
        help="Redis that the API processes share for the rate limits.",
    )
    parser.add_argument(
        "--drain-seconds",
        type=float,
        default=300,
        help="How long to wait after the load for the jobs still running.",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(__file__).parent / "out" / "load",
        help="Folder for the logs, locust's statistics and the uploads; emptied first.",
    )

    parser.add_argument("--no-record", action="store_true", help="Print only.")
    parser.add_argument("--note", default="", help="A remark recorded with the run.")
    return parser


def main() -> None:
    arguments = _parser().parse_args()
    if not 0 < arguments.minutes <= MAX_MINUTES:
        sys.exit(f"--minutes must be above 0 and at most {MAX_MINUTES}")
    if not 1 <= arguments.users <= MAX_USERS:
        sys.exit(f"--users must be from 1 to {MAX_USERS}")
    if importlib.util.find_spec("locust") is None:
        sys.exit("locust is missing: install the extra with pip install -e '.[load]'")
    try:
        redis.Redis.from_url(arguments.redis_url).ping()
    except redis.RedisError as error:
        sys.exit(f"Redis at {arguments.redis_url} did not answer PING: {error}")
    # SIGTERM unwinds like Ctrl-C, so every process stops and the database is dropped.
    signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    try:
        run = run_load(arguments)
    except KeyboardInterrupt:
        sys.exit("interrupted: the processes were stopped and the database dropped")
    print(json.dumps(run))
    if not arguments.no_record:
        print(f"recorded in {write_load_section(run)}")
    sys.exit(0 if passed(run) else 1)


if __name__ == "__main__":
    main()
