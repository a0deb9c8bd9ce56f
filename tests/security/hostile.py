"""A server process under audit for the hostile upload tests, and the files they send.

The server runs ``maizeplus serve`` through ``tests.security.audited_serve``
in an empty working folder, with TMPDIR and the import work folder of its
own, so that the tests can check which files it opened and where it wrote.
"""

from __future__ import annotations

import io
import json
import os
import random
import socket
import string
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.imports.helpers import FINAL_STATUSES
from tests.imports.readers import workbooks
from tests.jobs.processes import ServerProcess, service_environment
from tests.support import TenantCredentials

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024
# The server of these tests takes uploads up to 16 MiB, so that a body over
# the limit is cheap to send. Every other limit keeps its default.
UPLOAD_LIMIT_BYTES = 16 * MIB
# Peak memory (VmHWM) that one hostile upload may add to the server's
# resident memory before it. Normal small imports add a few MiB; openpyxl
# reached 545 MB RSS on the 0.5 MB zip bomb of the case files.
MAX_EXTRA_PEAK_MIB = 160
MAX_SECONDS = 20
USERS_HEADER = "email;first_name;last_name"


@dataclass
class Outcome:
    """How the server handled one upload: status or job state, message, cost."""

    name: str
    status: str
    message: str
    seconds: float
    extra_peak_mib: float

    def record(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "message": self.message,
            "seconds": round(self.seconds, 2),
            "extra_peak_mib": round(self.extra_peak_mib, 1),
        }


class AuditedServer:
    """``maizeplus serve`` in its own folders, with its audit log and memory figures."""

    def __init__(self, database_url: str, root: Path) -> None:
        self.root = root
        self.cwd = root / "cwd"
        self.tmp = root / "tmp"
        self.work = root / "work"
        for folder in (self.cwd, self.tmp, self.work):
            folder.mkdir(parents=True)
        self.audit_log = root / "audit.jsonl"
        environment = service_environment(
            database_url,
            import_max_upload_bytes=UPLOAD_LIMIT_BYTES,
            import_work_dir=self.work,
        )
        environment.update(
            {
                "MAIZEPLUS_TEST_AUDIT_LOG": str(self.audit_log),
                "PYTHONPATH": str(REPOSITORY_ROOT),
                "PYTHONDONTWRITEBYTECODE": "1",
                "TMPDIR": str(self.tmp),
                # Hundreds of requests a minute with one token; see conftest.py.
                "MAIZEPLUS_RATE_LIMIT_API_PER_MINUTE": "1000000",
            }
        )
        self.process = ServerProcess(
            environment,
            root / "server.log",
            module="tests.security.audited_serve",
            cwd=self.cwd,
        )

    def start(self) -> AuditedServer:
        self.process.start()
        return self

    def stop(self) -> None:
        self.process.stop()

    @property
    def url(self) -> str:
        return self.process.url

    def memory_mib(self, field: str) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
        raise AssertionError(f"{field} is missing from /proc/{self.process.pid}/status")

    def reset_peak(self) -> None:
        """Reset VmHWM to the current resident size (Linux 4.0 or newer)."""
        Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")

    def audit_events(self) -> list[dict[str, Any]]:
        if not self.audit_log.exists():
            return []
        lines = self.audit_log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]


def upload_and_wait(
    server: AuditedServer,
    api: httpx.Client,
    tenant: TenantCredentials,
    name: str,
    content: bytes,
    file_name: str = "users.csv",
) -> Outcome:
    """Upload a file, follow its job to the end, and measure time and peak memory."""
    server.reset_peak()
    resident = server.memory_mib("VmRSS")
    started = time.monotonic()
    response = api.post(
        "/api/v1/import",
        headers=tenant.headers,
        files={"file": (file_name, content)},
    )
    if response.status_code != 202:
        return Outcome(
            name,
            str(response.status_code),
            response.json().get("message", ""),
            time.monotonic() - started,
            server.memory_mib("VmHWM") - resident,
        )
    job_uuid = response.json()["data"]["uuid"]
    while True:
        data = api.get(
            f"/api/v1/import/{job_uuid}/status", headers=tenant.headers
        ).json()["data"]
        if data["status"] in FINAL_STATUSES:
            break
        assert time.monotonic() - started < MAX_SECONDS, f"{name}: job still running"
        time.sleep(0.05)
    return Outcome(
        name,
        data["status"],
        data["message"] or "",
        time.monotonic() - started,
        server.memory_mib("VmHWM") - resident,
    )


def record_figures(outcomes: list[Outcome]) -> None:
    """Append the outcomes to the JSON lines file that MAIZEPLUS_SECURITY_FIGURES names.

    docs/security.md lists these figures; without the variable nothing is written.
    """
    target = os.environ.get("MAIZEPLUS_SECURITY_FIGURES")
    if not target:
        return
    with open(target, "a", encoding="utf-8") as output:
        for outcome in outcomes:
            output.write(json.dumps(outcome.record()) + "\n")


# --- Raw HTTP, for bodies that httpx would not send --------------------------------


def raw_request(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str],
    chunks: Iterator[bytes],
) -> tuple[int, bytes]:
    """Send a body piece by piece over a plain socket; return status and body.

    The server may respond and close before the body ends, so a failed send
    stops the sending and the response is read anyway.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        connection.sendall((head + "\r\n").encode())
        try:
            for chunk in chunks:
                connection.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        response = b""
        try:
            while data := connection.recv(65536):
                response += data
                if b"\r\n\r\n" in response and _complete(response):
                    break
        except ConnectionResetError:
            pass
    status_line, _, rest = response.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def _complete(response: bytes) -> bool:
    head, _, body = response.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def chunked(pieces: Iterator[bytes]) -> Iterator[bytes]:
    """Encode pieces with Transfer-Encoding: chunked."""
    for piece in pieces:
        yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    yield b"0\r\n\r\n"


def repeated(piece: bytes, total: int) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield piece
        sent += len(piece)


# --- A listener that counts who connects ------------------------------------------


class ConnectionCounter:
    """A loopback TCP port that accepts connections and counts them, for XXE targets."""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(16)
        self._socket.settimeout(0.2)
        self.port = int(self._socket.getsockname()[1])
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._socket.close()


# --- Files -------------------------------------------------------------------------


def random_letters(count: int, seed: int = 1) -> str:
    """Letters that deflate compresses little, so a large part stays under the ratio limit."""
    generator = random.Random(seed)
    return "".join(generator.choices(string.ascii_letters, k=count))


def xlsx_bytes(
    sheet_xml: str, *, shared_strings_xml: str | None = None, **parts: Any
) -> bytes:
    """Write a workbook with ``workbooks.write_xlsx`` into memory."""
    buffer = io.BytesIO()
    # zipfile writes to a file object as well as to a path.
    workbooks.write_xlsx(
        buffer,  # type: ignore[arg-type]
        sheet_xml,
        shared_strings_xml=shared_strings_xml,
        **parts,
    )
    return buffer.getvalue()


def users_sheet(*rows: tuple[str, ...]) -> str:
    header = workbooks.inline_row(1, USERS_HEADER.split(";"))
    body = "".join(
        workbooks.inline_row(number, row) for number, row in enumerate(rows, 2)
    )
    return workbooks.sheet(header + body)


def zip_of_entries(count: int, workbook_parts: bool) -> bytes:
    """A ZIP of ``count`` small entries, with or without a valid workbook among them."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        if workbook_parts:
            archive.writestr("[Content_Types].xml", workbooks.content_types())
            archive.writestr("xl/workbook.xml", workbooks.workbook())
            archive.writestr(
                "xl/_rels/workbook.xml.rels",
                workbooks.relationships(
                    {"rId1": ("worksheet", "worksheets/sheet1.xml")}
                ),
            )
            archive.writestr(
                "xl/worksheets/sheet1.xml", users_sheet(("a@example.com", "A", "B"))
            )
        for index in range(count):
            archive.writestr(f"xl/media/pad{index}.bin", b"")
    return buffer.getvalue()
