"""A reverse proxy on loopback that returns scripted faults before it forwards.

It plays the load balancer or gateway in front of a real server. A fault is
a status (429 with ``Retry-After``, 502, 503, 504) or a connection closed
without a response. Requests without a pending fault go to the
upstream server unchanged.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

# Headers that belong to one connection and are not forwarded (RFC 9110 section 7.6.1).
HOP_HEADERS = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "host",
}


@dataclass
class Fault:
    """The response to the next request whose method and path match."""

    method: str
    path_prefix: str
    status: int | None = None  # None: close the connection without a response
    retry_after: str | None = None


class FaultyProxy:
    """Serve on a free loopback port; forward to ``upstream`` unless a fault is due.

    ``requests`` records the method and path of every request received, and
    ``forwarded`` those that reached the upstream. With ``preserve_host``
    False, the upstream gets its own address as ``Host``, so the links it
    builds point past the proxy.
    """

    def __init__(self, upstream: str, preserve_host: bool = True) -> None:
        self.upstream = upstream
        self.preserve_host = preserve_host
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []
        self.forwarded: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._http = httpx.Client(base_url=upstream, timeout=30)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    def __enter__(self) -> FaultyProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        self._http.close()

    def add(self, *faults: Fault) -> None:
        with self._lock:
            self.faults.extend(faults)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            self.requests.append((method, path))
            for index, fault in enumerate(self.faults):
                if fault.method == method and path.startswith(fault.path_prefix):
                    return self.faults.pop(index)
            self.forwarded.append((method, path))
            return None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fault = proxy._take_fault(self.command, self.path)
                if fault is not None:
                    self._answer_fault(fault)
                    return
                headers = {
                    key: value
                    for key, value in self.headers.items()
                    if key.lower() not in HOP_HEADERS
                }
                if proxy.preserve_host:
                    headers["Host"] = self.headers["Host"]
                response = proxy._http.request(
                    self.command, self.path, headers=headers, content=body
                )
                self.send_response(response.status_code)
                for key, value in response.headers.items():
                    if key.lower() not in HOP_HEADERS | {"content-encoding"}:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(response.content)))
                self.end_headers()
                self.wfile.write(response.content)

            def _answer_fault(self, fault: Fault) -> None:
                if fault.status is None:
                    self.close_connection = True
                    return
                payload = json.dumps({"message": f"Injected {fault.status}."}).encode()
                self.send_response(fault.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                if fault.retry_after is not None:
                    self.send_header("Retry-After", fault.retry_after)
                self.end_headers()
                self.wfile.write(payload)

            # http.server dispatches on these names.
            do_GET = do_POST = do_DELETE = _handle  # noqa: N815

        return Handler
