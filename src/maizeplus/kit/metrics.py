"""Every Prometheus metric of the service, and the middleware that counts requests.

The metrics live in prometheus-client's default registry, which belongs to
the process, so several applications in one process (as in the tests) share
them. ``maizeplus_import_jobs`` is the exception, because it is read from the
database at each scrape (``render_metrics``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

from prometheus_client import (
    REGISTRY,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from maizeplus.kit.routes import route_template

# The route label of a request that matched no route, so that scanners probing
# random paths add one series, not one per path.
UNMATCHED_ROUTE = "unmatched"
# Methods outside this set share the label "other".
KNOWN_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
)

# Without this, every counter and histogram series gets a second series,
# NAME_created, with the Unix time at which it was created.
disable_created_metrics()  # type: ignore[no-untyped-call]

IMPORT_ROW_OUTCOMES = ("created", "updated", "unchanged", "failed")
REPORT_OUTCOMES = ("sent", "skipped", "retried", "failed")

HTTP_REQUESTS = Counter(
    "maizeplus_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ("method", "route", "status"),
)
HTTP_REQUEST_DURATION = Histogram(
    "maizeplus_http_request_duration_seconds",
    "Time from the start of an HTTP request to the end of its response, "
    "by method and route template.",
    ("method", "route"),
    # From fast reads (milliseconds) to uploads of large files, which can take
    # a minute or more over a slow link.
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
IMPORT_ROWS = Counter(
    "maizeplus_import_rows",
    "Import rows in committed chunks, by outcome: created, updated, unchanged, "
    "or failed (the row was reported with an error and changed nothing).",
    ("outcome",),
)
IMPORT_REPORTS = Counter(
    "maizeplus_import_reports",
    "Outcomes of report mail deliveries: sent, skipped (no SMTP host or no "
    "receivers), retried (an attempt failed and another is scheduled) or "
    "failed (the last attempt failed).",
    ("outcome",),
)
SECRET_VERIFICATIONS = Counter(
    "maizeplus_secret_verifications",
    "Argon2 verifications of passwords and client secrets, those against the "
    "dummy hash for an unknown account or client included. Each costs "
    "MAIZEPLUS_PASSWORD_HASH_MEMORY_KIB of memory and most of a token "
    "request's CPU time.",
)

# Create every labelled series up front, so that each exists with 0 from the
# start and rate() counts its first increment.
for _outcome in IMPORT_ROW_OUTCOMES:
    IMPORT_ROWS.labels(_outcome)
for _outcome in REPORT_OUTCOMES:
    IMPORT_REPORTS.labels(_outcome)


def record_import_rows(created: int, updated: int, unchanged: int, failed: int) -> None:
    """Count the rows of one committed import chunk."""
    IMPORT_ROWS.labels("created").inc(created)
    IMPORT_ROWS.labels("updated").inc(updated)
    IMPORT_ROWS.labels("unchanged").inc(unchanged)
    IMPORT_ROWS.labels("failed").inc(failed)


def record_report(outcome: str) -> None:
    """Count one report delivery outcome, one of ``REPORT_OUTCOMES``."""
    if outcome not in REPORT_OUTCOMES:
        raise ValueError(f"unknown report outcome {outcome!r}; use {REPORT_OUTCOMES}")
    IMPORT_REPORTS.labels(outcome).inc()


class _Scrape:
    """The default registry's metrics plus the import job counts of one scrape."""

    def __init__(self, import_jobs: Mapping[str, int]) -> None:
        self._import_jobs = import_jobs

    def collect(self) -> Iterable[Metric]:
        yield from REGISTRY.collect()
        jobs = GaugeMetricFamily(
            "maizeplus_import_jobs",
            "Import jobs in the database, by status, counted at scrape time.",
            labels=("status",),
        )
        for status, count in sorted(self._import_jobs.items()):
            jobs.add_metric((status,), count)
        yield jobs


def render_metrics(import_jobs: Mapping[str, int]) -> bytes:
    """Render every metric in the Prometheus text format, with these job counts.

    The counts go into this scrape only, so two applications in one process,
    each on its own database, never show each other's jobs.
    """
    return generate_latest(_Scrape(import_jobs))


class RequestMetrics:
    """ASGI middleware that counts and times each HTTP request by route template.

    A request whose handler raised counts as a 500, which is what the
    application's outermost error handler then sends.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            method = scope["method"] if scope["method"] in KNOWN_METHODS else "other"
            route = route_template(scope) or UNMATCHED_ROUTE
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_REQUEST_DURATION.labels(method, route).observe(
                time.perf_counter() - started
            )
