"""Servers and workers as real processes, which the crash tests kill and restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.hygiene import watch_process_log
from tests.support import TEST_RATE_LIMIT_PER_MINUTE, free_port

START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 30


def service_environment(database_url: str, **settings: object) -> dict[str, str]:
    """The environment of a process on ``database_url``; keyword names are settings."""
    environment = {
        **os.environ,
        "MAIZEPLUS_DATABASE_URL": database_url,
        "MAIZEPLUS_LOG_JSON": "true",
        "MAIZEPLUS_PASSWORD_HASH_TIME_COST": "1",
        "MAIZEPLUS_PASSWORD_HASH_MEMORY_KIB": "64",
        "MAIZEPLUS_RATE_LIMIT_API_PER_MINUTE": str(TEST_RATE_LIMIT_PER_MINUTE),
        "MAIZEPLUS_RATE_LIMIT_TOKEN_PER_MINUTE": str(TEST_RATE_LIMIT_PER_MINUTE),
    }
    for name, value in settings.items():
        environment[f"MAIZEPLUS_{name.upper()}"] = str(value)
    return environment


class ServiceProcess:
    """One ``maizeplus`` command in a process of its own, its logs in a file."""

    def __init__(
        self,
        arguments: list[str],
        environment: dict[str, str],
        log_path: Path,
        module: str = "maizeplus.cli",
        cwd: Path | None = None,
    ) -> None:
        self.arguments = arguments
        self.environment = environment
        self.log_path = log_path
        self.module = module
        self.cwd = cwd
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ServiceProcess:
        watch_process_log(self.log_path)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.module, *self.arguments],
                env=self.environment,
                cwd=self.cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def send(self, number: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(number)

    def kill(self) -> None:
        """SIGKILL: the process ends at once, in the middle of whatever it does."""
        self.send(signal.SIGKILL)
        self.wait()

    def wait(self, timeout: float = STOP_TIMEOUT_SECONDS) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def stop(self) -> None:
        """End the process if it still runs: SIGTERM, then SIGKILL."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_events(self) -> Iterator[dict[str, Any]]:
        """Yield the process's JSON log records, skipping any other output."""
        for line in self.log_path.read_text(
            encoding="utf-8", errors="replace"
        ).splitlines():
            if line.startswith("{"):
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    continue


class ServerProcess(ServiceProcess):
    """``maizeplus serve`` on a free loopback port."""

    def __init__(
        self,
        environment: dict[str, str],
        log_path: Path,
        *,
        worker: bool = True,
        port: int | None = None,
        module: str = "maizeplus.cli",
        cwd: Path | None = None,
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        arguments = ["serve", "--port", str(self.port)]
        if not worker:
            arguments.append("--no-worker")
        super().__init__(arguments, environment, log_path, module, cwd)

    def start(self) -> ServerProcess:
        super().start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the server exited with {self.process.returncode}: "
                    + self.log_path.read_text(errors="replace")[-2000:]
                )
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server on port {self.port} did not start")
            time.sleep(0.1)


def worker_process(
    environment: dict[str, str],
    log_path: Path,
    name: str,
    *,
    module: str = "maizeplus.cli",
) -> ServiceProcess:
    return ServiceProcess(["worker", "--name", name], environment, log_path, module)


def wait_for_log_event(
    process: ServiceProcess,
    event: str,
    timeout: float = START_TIMEOUT_SECONDS,
    **fields: object,
) -> dict[str, Any]:
    """Wait until the process logs ``event`` with the given fields; return the record."""
    deadline = time.monotonic() + timeout
    while True:
        for record in process.log_events():
            if record.get("event") == event and all(
                record.get(key) == value for key, value in fields.items()
            ):
                return record
        if time.monotonic() > deadline:
            raise AssertionError(f"{event} {fields} not logged within {timeout} s")
        time.sleep(0.1)
