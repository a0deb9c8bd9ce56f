"""The figures of a load test: latencies, throughput, statuses, and their page.

``write_load_section`` rewrites the part of ``docs/load.md`` between its two
markers from ``bench/results/load-postgresql.json``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.exports import percentile
from bench.report import RESULTS_DIR

DOCS_PAGE = Path(__file__).parent.parent / "docs" / "load.md"
RESULTS_FILE = RESULTS_DIR / "load-postgresql.json"
SECTION_START = "<!-- load-results:start (written by python -m bench.load) -->"
SECTION_END = "<!-- load-results:end -->"


def _figures(name: str, requests: list[list[Any]], seconds: float) -> dict[str, Any]:
    times = [request[2] for request in requests]
    return {
        "name": name,
        "requests": len(requests),
        "failures": sum(1 for request in requests if request[3] is not None),
        "requests_per_second": round(len(requests) / seconds, 2),
        "p50_ms": round(percentile(times, 0.50), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
        "p99_ms": round(percentile(times, 0.99), 1),
        "max_ms": round(max(times), 1),
    }


def request_figures(
    samples_path: Path,
) -> tuple[list[dict[str, Any]], dict[str, Any], float]:
    """Return the figures of each request kind and of all requests, and the seconds.

    The seconds run from the start of the load to the last response, so they
    include the ramp-up and the users' last tasks. Requests per second are
    counted over them. Percentiles are nearest-rank, over exact times.
    """
    samples = json.loads(samples_path.read_text(encoding="utf-8"))
    requests: list[list[Any]] = samples["requests"]
    if not requests:
        raise RuntimeError(f"{samples_path} contains no request")
    seconds = max(request[4] for request in requests) - samples["test_started"]
    by_name: dict[str, list[list[Any]]] = {}
    for request in requests:
        by_name.setdefault(request[0], []).append(request)
    kinds = [_figures(name, by_name[name], seconds) for name in sorted(by_name)]
    return kinds, _figures("all", requests, seconds), seconds


def status_figures(samples_path: Path) -> dict[str, Any]:
    """Return the responses by status, the errors by request and status, and failures.

    A failure is a request that locust counted as failed: an error status,
    no response, or a body that the simulated user found wrong.
    """
    by_status: Counter[str] = Counter()
    errors: dict[str, Counter[str]] = {}
    failures: Counter[tuple[str, str]] = Counter()
    for name, status, _, failure, _ in json.loads(
        samples_path.read_text(encoding="utf-8")
    )["requests"]:
        by_status[str(status)] += 1
        if status >= 400 or status == 0:
            errors.setdefault(name, Counter())[str(status)] += 1
        if failure is not None:
            failures[(name, failure)] += 1
    server_errors = sum(
        count for status, count in by_status.items() if status.startswith("5")
    )
    return {
        "by_status": dict(sorted(by_status.items())),
        "errors_by_request": {name: dict(counts) for name, counts in errors.items()},
        "server_errors": server_errors,
        "too_many_requests": by_status.get("429", 0),
        "other_client_errors": sum(
            count
            for status, count in by_status.items()
            if status.startswith("4") and status != "429"
        ),
        "no_response": by_status.get("0", 0),
        "failures": [
            {"name": name, "error": error, "occurrences": count}
            for (name, error), count in failures.most_common()
        ],
    }


def findings(run: dict[str, Any]) -> list[str]:
    """Return one sentence for each target: no 5xx, no lost row, no 429, no traceback."""
    return [
        *_response_findings(run["statuses"]),
        *_job_findings(run["jobs"]),
        *_log_findings(run["logs"], run["locust_cpu_warning"]),
    ]


def _response_findings(statuses: dict[str, Any]) -> list[str]:
    lines = []
    if statuses["server_errors"]:
        lines.append(
            f"**{statuses['server_errors']} responses were 5xx**: "
            f"{_errors_text(statuses, lambda status: status.startswith('5'))}."
        )
    else:
        lines.append("No response was a 5xx.")
    if statuses["no_response"]:
        lines.append(
            f"**{statuses['no_response']} requests got no response** "
            "(connection error or time-out)."
        )
    if statuses["too_many_requests"]:
        lines.append(
            f"**{statuses['too_many_requests']} responses were 429** although the "
            f"limits were raised: {_errors_text(statuses, lambda status: status == '429')}."
        )
    else:
        lines.append("No response was a 429.")
    if statuses["other_client_errors"]:
        other = _errors_text(
            statuses, lambda status: status.startswith("4") and status != "429"
        )
        lines.append(
            f"**{statuses['other_client_errors']} responses were other 4xx**: {other}."
        )
    if statuses["failures"]:
        failures = "; ".join(
            f"{failure['occurrences']} × `{failure['name']}`: {failure['error']}"
            for failure in statuses["failures"][:5]
        )
        lines.append(f"**locust counted failed requests**: {failures}.")
    return lines


def _job_findings(jobs: dict[str, Any]) -> list[str]:
    if jobs["problem_count"] or jobs["lost_users"] or jobs["wrong_last_names"]:
        return [
            f"**The checks found {jobs['problem_count']} problems** "
            f"({jobs['lost_users']} users missing, {jobs['wrong_last_names']} with "
            f"a wrong last name, {jobs['unexpected_users']} unexpected): "
            + "; ".join(jobs["problems"][:5])
            + "."
        ]
    return [
        f"Every one of the {jobs['jobs_checked']} jobs ended as its file deserved, "
        f"and the {jobs['users_checked']:,} users of the three tenants matched "
        "the preload files and the uploaded files, so no row was lost."
    ]


def _log_findings(logs: dict[str, Any], locust_cpu_warning: bool) -> list[str]:
    lines = []
    server_side = sum(
        count
        for status, count in logs["access_statuses"].items()
        if status.startswith("5")
    )
    if server_side:
        lines.append(
            f"**The servers' access logs contain {server_side} 5xx responses.**"
        )
    if logs["tracebacks"]:
        lines.append(f"**The logs contain {logs['tracebacks']} tracebacks.**")
    else:
        lines.append("The server and worker logs contain no traceback.")
    if logs["lines_not_json"]:
        lines.append(
            f"{logs['lines_not_json']} log lines were not JSON. The first are "
            "in the results file under `logs.samples`."
        )
    if locust_cpu_warning:
        lines.append(
            "locust warned that its process used over 90 % of a core, so it may "
            "have sent less load and measured longer times than the servers gave."
        )
    if logs["warning_events"]:
        events = ", ".join(
            f"`{event}` ({count})" for event, count in logs["warning_events"].items()
        )
        lines.append(f"Warnings and errors logged: {events}.")
    return lines


def _errors_text(statuses: dict[str, Any], selected: Callable[[str], bool]) -> str:
    """List the error responses of the selected statuses by request kind."""
    parts = [
        f"{count} on `{name}` ({status})"
        for name, by_status in statuses["errors_by_request"].items()
        for status, count in by_status.items()
        if selected(status)
    ]
    return ", ".join(parts)


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def section_lines(run: dict[str, Any]) -> list[str]:
    """Return the Markdown of the recorded run: its setup, figures and findings."""
    overall = run["overall"]
    jobs = run["jobs"]
    lines = [
        f"Recorded {run['measured_at']} on {run['machine']}.",
        "",
        f"    {run['command']}",
        "",
        f"{run['users']} simulated users over three tenants of "
        f"{run['preloaded_users']:,} preloaded users each, two API processes "
        f"and two workers (concurrency {run['worker_concurrency']}), for "
        f"{run['load_seconds']:.0f} s of load (locust {run['locust_version']}), "
        f"with pauses of {run['wait_seconds'][0]:g} to {run['wait_seconds'][1]:g} s "
        f"between tasks. Each upload had {run['changed_rows']} changed and "
        f"{run['new_rows']} new users.",
    ]
    if run.get("note"):
        lines += ["", f"Note: {run['note']}"]
    lines += [
        "",
        "| request | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | failures |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind in [*run["requests"], {**overall, "name": "**all requests**"}]:
        lines.append(
            f"| {kind['name']} | {kind['requests']:,} | {kind['requests_per_second']:g} "
            f"| {_ms(kind['p50_ms'])} | {_ms(kind['p95_ms'])} | {_ms(kind['p99_ms'])} "
            f"| {kind['max_ms']:g} | {kind['failures']} |"
        )
    statuses = ", ".join(
        f"{status}: {count:,}" for status, count in run["statuses"]["by_status"].items()
    )
    lines += [
        "",
        f"Responses by status: {statuses}. The servers' access logs, which also "
        "count the set-up's requests and the health checks: "
        + ", ".join(
            f"{status}: {count:,}"
            for status, count in run["logs"]["access_statuses"].items()
        )
        + ".",
        "",
        f"The simulated users sent {jobs['uploads_sent']} uploads, and "
        f"{jobs['uploads_accepted']} were accepted. {jobs['jobs_checked']} jobs "
        "(the three preload jobs included) and their "
        f"{jobs['rows_checked']:,} rows were checked, and "
        f"{jobs['users_checked']:,} users compared at the end. Jobs by status: "
        + ", ".join(
            f"{status} {count}" for status, count in jobs["jobs_by_status"].items()
        )
        + ".",
        "",
        *[f"- {finding}" for finding in findings(run)],
    ]
    return lines


def write_load_section(run: dict[str, Any]) -> Path:
    """Record the run's figures and rewrite the section of ``docs/load.md`` from them."""
    RESULTS_DIR.mkdir(exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(run, indent=2) + "\n", encoding="utf-8")
    page = DOCS_PAGE.read_text(encoding="utf-8")
    start, end = page.index(SECTION_START), page.index(SECTION_END)
    section = "\n".join([SECTION_START, "", *section_lines(run), ""])
    DOCS_PAGE.write_text(page[:start] + section + "\n" + page[end:], encoding="utf-8")
    return DOCS_PAGE
