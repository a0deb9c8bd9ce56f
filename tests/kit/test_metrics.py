"""/metrics: the text format, request counts by route template, the job gauge.

The counters belong to the test process, so the tests compare values before
and after; the job gauge is read from each test's own database.
"""

from __future__ import annotations

import uuid

import httpx
from prometheus_client import CONTENT_TYPE_LATEST

from tests.imports.helpers import upload_bytes, wait_for_job
from tests.scrape import scrape, value
from tests.support import TenantCredentials

STATUS_ROUTE = "/api/v1/import/{reference}/status"


def test_metrics_use_prometheus_text_format(api: httpx.Client) -> None:
    response = api.get("/metrics")
    names = {name for name, _labels in scrape(api)}

    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    for name in (
        "maizeplus_http_requests_total",
        "maizeplus_http_request_duration_seconds_bucket",
        "maizeplus_import_jobs",
        "maizeplus_import_rows_total",
        "maizeplus_import_reports_total",
    ):
        assert name in names, name


def test_metrics_not_in_openapi(api: httpx.Client) -> None:
    paths = api.get("/openapi.json").json()["paths"]

    assert "/metrics" not in paths
    assert "/ready" in paths


def test_requests_counted_by_route_template(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    unknown_jobs = [str(uuid.uuid4()) for _ in range(2)]
    unknown_path = f"/nothing-{uuid.uuid4()}"

    before = scrape(api)
    for job_uuid in unknown_jobs:
        api.get(f"/api/v1/import/{job_uuid}/status", headers=tenant.headers)
    api.get("/api/v1/users", headers=tenant.headers)
    api.get(unknown_path)
    after = scrape(api)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta(
        "maizeplus_http_requests_total",
        method="GET",
        route=STATUS_ROUTE,
        status="404",
    ) == len(unknown_jobs)
    assert delta(
        "maizeplus_http_request_duration_seconds_count",
        method="GET",
        route=STATUS_ROUTE,
    ) == len(unknown_jobs)
    assert (
        delta(
            "maizeplus_http_requests_total",
            method="GET",
            route="/api/v1/users",
            status="200",
        )
        == 1
    )
    assert (
        delta(
            "maizeplus_http_requests_total",
            method="GET",
            route="unmatched",
            status="404",
        )
        == 1
    )
    label_values = {
        label_value for _name, labels in after for _key, label_value in labels
    }
    for raw in [*unknown_jobs, unknown_path]:
        assert not any(raw in label_value for label_value in label_values), raw


def test_import_jobs_gauge_reads_database(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    files = [
        b"email;first_name;last_name\nanna@example.com;Anna;Verdi\n",
        b"email;first_name;last_name\nluca@example.com;Luca;Neri\nnot-an-email;B;C\n",
        b"first_name\nAnna\n",
    ]
    statuses = []
    for content in files:
        job_uuid = upload_bytes(api, tenant, content).json()["data"]["uuid"]
        statuses.append(wait_for_job(api, tenant, job_uuid)["status"])

    samples = scrape(api)

    assert statuses == ["completed", "completed_with_errors", "failed"]
    assert value(samples, "maizeplus_import_jobs", status="running") == 0
    assert value(samples, "maizeplus_import_jobs", status="completed") == 1
    assert value(samples, "maizeplus_import_jobs", status="completed_with_errors") == 1
    assert value(samples, "maizeplus_import_jobs", status="failed") == 1
