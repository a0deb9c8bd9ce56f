"""Measure what guessing and bursts can learn or cost, against a real server.

Starts ``maizeplus serve`` on a free loopback port with a fresh SQLite
database (or a new database on ``--database-url``) and the production Argon2
settings, then measures:

1. the response time of the password grant for a wrong password, an unknown
   username and a locked account (right password), interleaved, so that the
   medians show whether timing distinguishes them;
2. the latency of one tenant's export requests alone, and while another
   tenant sends requests past its rate limit, so that the figures show
   whether one tenant's burst slows another.

Every loop is bounded in count and time. Prints a Markdown table for
docs/security.md.

    python -m bench.token_timing [--samples 15] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy.engine import make_url
from tests.support import free_port

from bench.machine import describe_machine

MAIZEPLUS = Path(sys.executable).parent / "maizeplus"
START_TIMEOUT_SECONDS = 30
BURST_MAX_REQUESTS = 3_000
BURST_MAX_SECONDS = 20.0
LOCK_FAILURES = 10


def run_command(environment: dict[str, str], *args: str) -> dict[str, Any]:
    completed = subprocess.run(
        [str(MAIZEPLUS), *args, "--json"],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def create_tenant(environment: dict[str, str], name: str) -> dict[str, Any]:
    run_command(environment, "tenant", "create", name)
    client = run_command(environment, "client", "create", "--tenant", name)
    account = run_command(
        environment,
        "account",
        "create",
        "--tenant",
        name,
        "--username",
        f"api@{name}.example",
    )
    return {
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
        "username": f"api@{name}.example",
        "password": account["password"],
    }


def password_fields(tenant: dict[str, Any], **overrides: str) -> dict[str, str]:
    fields = {
        "grant_type": "password",
        "client_id": str(tenant["client_id"]),
        "client_secret": tenant["client_secret"],
        "username": tenant["username"],
        "password": tenant["password"],
        "scope": "*",
    }
    fields.update(overrides)
    return fields


def timed_post(client: httpx.Client, fields: dict[str, str]) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.post("/oauth/token", data=fields)
    return (time.perf_counter() - started) * 1000, response.status_code


def measure_guessing(
    client: httpx.Client, victim: dict[str, Any], locked: dict[str, Any], samples: int
) -> dict[str, list[float]]:
    for _ in range(LOCK_FAILURES):
        client.post(
            "/oauth/token", data=password_fields(locked, password="wrong-password")
        )
    cases = {
        "wrong password": password_fields(victim, password="wrong-password-x"),
        "unknown username": password_fields(victim, username="nobody@example.com"),
        "locked account, right password": password_fields(locked),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(samples):
        for name, fields in cases.items():
            elapsed, status = timed_post(client, fields)
            assert status == 400, f"{name}: status {status}"
            times[name].append(elapsed)
    return times


def measure_burst(
    base_url: str, quiet: dict[str, Any], noisy: dict[str, Any], samples: int
) -> dict[str, list[float]]:
    """Time the quiet tenant's requests alone, then during the noisy tenant's burst."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        quiet_token = client.post("/oauth/token", data=password_fields(quiet)).json()
        noisy_token = client.post("/oauth/token", data=password_fields(noisy)).json()
    quiet_headers = {"Authorization": f"Bearer {quiet_token['access_token']}"}
    noisy_headers = {"Authorization": f"Bearer {noisy_token['access_token']}"}
    url = "/api/v1/users?page=1&limit=10"

    def sample(client: httpx.Client) -> list[float]:
        elapsed = []
        for _ in range(samples):
            started = time.perf_counter()
            response = client.get(url, headers=quiet_headers)
            elapsed.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
        return elapsed

    with httpx.Client(base_url=base_url, timeout=30) as client:
        alone = sample(client)

    stop = threading.Event()
    statuses: dict[int, int] = {}

    def burst() -> None:
        deadline = time.monotonic() + BURST_MAX_SECONDS
        with httpx.Client(base_url=base_url, timeout=30) as noisy_client:
            for _ in range(BURST_MAX_REQUESTS):
                if stop.is_set() or time.monotonic() > deadline:
                    return
                status = noisy_client.get(url, headers=noisy_headers).status_code
                statuses[status] = statuses.get(status, 0) + 1

    thread = threading.Thread(target=burst)
    thread.start()
    try:
        time.sleep(0.5)
        with httpx.Client(base_url=base_url, timeout=30) as client:
            during = sample(client)
    finally:
        stop.set()
        thread.join(timeout=60)
    print(f"noisy tenant's responses by status: {statuses}", file=sys.stderr)
    return {"alone": alone, "during the other tenant's burst": during}


def quantile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def print_table(title: str, times: dict[str, list[float]]) -> None:
    print(f"\n{title}\n")
    print("| case | samples | median ms | p90 ms | min ms | max ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, values in times.items():
        print(
            f"| {name} | {len(values)} | {statistics.median(values):.1f} | "
            f"{quantile(values, 0.9):.1f} | {min(values):.1f} | {max(values):.1f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--burst-samples", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="maizeplus-token-timing-"))
    database_name = None
    if options.database_url:
        database_name = f"maizeplus_bench_{uuid.uuid4().hex[:12]}"
        server_url = make_url(options.database_url)
        admin_url = server_url.set(drivername="postgresql", database="postgres")
        with psycopg.connect(
            admin_url.render_as_string(False), autocommit=True
        ) as admin:
            admin.execute(f'CREATE DATABASE "{database_name}"')
        database_url = server_url.set(database=database_name).render_as_string(False)
    else:
        database_url = f"sqlite:///{work / 'bench.db'}"

    port = free_port()
    environment = {
        **os.environ,
        "MAIZEPLUS_DATABASE_URL": database_url,
        "MAIZEPLUS_IMPORT_WORK_DIR": str(work),
        # The production Argon2 cost, whatever the caller's environment sets.
        "MAIZEPLUS_PASSWORD_HASH_TIME_COST": "3",
        "MAIZEPLUS_PASSWORD_HASH_MEMORY_KIB": "65536",
        # Room for the samples on one username; the burst tenant keeps 60.
        "MAIZEPLUS_RATE_LIMIT_TOKEN_PER_MINUTE": "100000",
        "MAIZEPLUS_RATE_LIMIT_API_TENANT_LIMITS": json.dumps({"quiet": 100000}),
    }
    server = None
    try:
        subprocess.run([str(MAIZEPLUS), "db", "upgrade"], env=environment, check=True)
        victim = create_tenant(environment, "victim")
        locked = create_tenant(environment, "locked")
        quiet = create_tenant(environment, "quiet")
        noisy = create_tenant(environment, "noisy")
        server = subprocess.Popen(
            [str(MAIZEPLUS), "serve", "--port", str(port), "--no-worker"],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            try:
                httpx.get(f"{base_url}/health", timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

        with httpx.Client(base_url=base_url, timeout=30) as client:
            guessing = measure_guessing(client, victim, locked, options.samples)
        burst = measure_burst(base_url, quiet, noisy, options.burst_samples)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if database_name is not None:
            with psycopg.connect(
                admin_url.render_as_string(False), autocommit=True
            ) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{database_name}" WITH (FORCE)')

    database = "postgresql" if database_name else "sqlite"
    print(f"\nMeasured on {database}, {describe_machine()}")
    print_table("Password grant, Argon2id t=3 m=64 MiB", guessing)
    print_table("GET /api/v1/users of one tenant", burst)


if __name__ == "__main__":
    main()
