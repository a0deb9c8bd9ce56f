"""Run a ``maizeplus`` command with a Python audit hook that logs files and sockets.

    MAIZEPLUS_TEST_AUDIT_LOG=PATH python -m tests.security.audited_serve serve ...

Each ``open`` (of a file or a folder, through ``open`` or ``os.open``), each
``socket.connect`` and ``socket.getaddrinfo``, and each ``subprocess.Popen``
in the process becomes one JSON line of PATH:
``{"event": "open", "path": "...", "write": false}``. Files that C libraries
open themselves, such as the SQLite database, raise no audit event.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _writes(mode: object, flags: object) -> bool:
    if isinstance(mode, str) and any(letter in mode for letter in "wax+"):
        return True
    return isinstance(flags, int) and bool(flags & WRITE_FLAGS)


def install_hook(log_path: str) -> None:
    log = open(log_path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115
    lock = threading.Lock()

    def write(record: dict[str, Any]) -> None:
        with lock:
            log.write(json.dumps(record, default=repr) + "\n")

    def hook(event: str, arguments: tuple[Any, ...]) -> None:
        if event == "open":
            path, mode, flags = arguments
            if isinstance(path, bytes):
                path = os.fsdecode(path)
            if isinstance(path, str):
                write({"event": event, "path": path, "write": _writes(mode, flags)})
        elif event in ("socket.connect", "socket.getaddrinfo"):
            address = arguments[1] if event == "socket.connect" else arguments[:2]
            write({"event": event, "address": address})
        elif event == "subprocess.Popen":
            write({"event": event, "command": arguments[1]})

    sys.addaudithook(hook)


def main() -> None:
    install_hook(os.environ["MAIZEPLUS_TEST_AUDIT_LOG"])
    from maizeplus.cli.main import main as maizeplus_main

    maizeplus_main()


if __name__ == "__main__":
    main()
