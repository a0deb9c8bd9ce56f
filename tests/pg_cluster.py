"""A throwaway PostgreSQL cluster on a free loopback port, for tests that stop it.

The cluster lives in its own temporary folder, listens on 127.0.0.1 only and
keeps its socket in that folder, so it never touches the machine's server.
initdb refuses to run as root; under root the commands run as the ``postgres``
user through ``runuser``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.support import free_port

COMMAND_TIMEOUT_SECONDS = 60


def _bin_dir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    for candidate in reversed(candidates):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class ThrowawayCluster:
    """One PostgreSQL cluster that a test creates, starts, stops and deletes."""

    def __init__(self) -> None:
        bin_dir = _bin_dir()
        if bin_dir is None:
            pytest.skip("no PostgreSQL binaries (initdb, pg_ctl) on this machine")
        self._bin_dir = bin_dir
        self._run_as: list[str] = []
        self.folder = Path(tempfile.mkdtemp(prefix="maizeplus-pg-"))
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                shutil.rmtree(self.folder)
                pytest.skip("initdb cannot run as root and there is no postgres user")
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self._run_as = ["runuser", "-u", "postgres", "--"]
        self.data = self.folder / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._running = False

    def _run(self, program: str, *arguments: str) -> None:
        command = [*self._run_as, str(self._bin_dir / program), *arguments]
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{program} failed with exit code {result.returncode}: "
                f"{result.stderr or result.stdout}"
            )

    def create(self) -> ThrowawayCluster:
        """Run initdb and start the server; return self."""
        self._run(
            "initdb",
            "--pgdata",
            str(self.data),
            "--username",
            "postgres",
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
            "--no-instructions",
        )
        self.start()
        return self

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        # fsync is off because the cluster is thrown away after the test.
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.folder} -c fsync=off"
        )
        self._run(
            "pg_ctl",
            "start",
            "--pgdata",
            str(self.data),
            "--log",
            str(self.folder / "server.log"),
            "--options",
            options,
            "--wait",
            "--timeout",
            "30",
        )
        self._running = True

    def stop_immediately(self) -> None:
        """Stop the server in immediate mode, so the next start runs crash recovery."""
        self._run(
            "pg_ctl",
            "stop",
            "--pgdata",
            str(self.data),
            "--mode",
            "immediate",
            "--wait",
        )
        self._running = False

    def destroy(self) -> None:
        """Stop the server if it runs and delete its folder."""
        try:
            if self._running:
                self.stop_immediately()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
