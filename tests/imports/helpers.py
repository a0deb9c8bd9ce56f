"""Uploading files and reading back jobs, errors and users, through the real API."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from tests.support import TenantCredentials

FINAL_STATUSES = {"completed", "completed_with_errors", "failed"}


def upload(
    api: httpx.Client, tenant: TenantCredentials, path: Path, name: str | None = None
) -> httpx.Response:
    with path.open("rb") as content:
        return api.post(
            "/api/v1/import",
            headers=tenant.headers,
            files={"file": (name or path.name, content)},
        )


def upload_bytes(
    api: httpx.Client,
    tenant: TenantCredentials,
    content: bytes,
    name: str = "users.csv",
) -> httpx.Response:
    return api.post(
        "/api/v1/import", headers=tenant.headers, files={"file": (name, content)}
    )


def wait_for_job(
    api: httpx.Client, tenant: TenantCredentials, job_uuid: str, timeout: float = 60
) -> dict[str, Any]:
    """Poll the status endpoint until the job ends; return its ``data``."""
    deadline = time.monotonic() + timeout
    while True:
        response = api.get(f"/api/v1/import/{job_uuid}/status", headers=tenant.headers)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()["data"]
        if data["status"] in FINAL_STATUSES:
            return data
        if time.monotonic() > deadline:
            raise AssertionError(
                f"job {job_uuid} still running after {timeout} s: {data}"
            )
        time.sleep(0.05)


def import_file(
    api: httpx.Client, tenant: TenantCredentials, path: Path
) -> dict[str, Any]:
    response = upload(api, tenant, path)
    assert response.status_code == 202, response.text
    return wait_for_job(api, tenant, response.json()["data"]["uuid"])


def all_errors(
    api: httpx.Client, tenant: TenantCredentials, job_uuid: str
) -> list[dict[str, Any]]:
    """Walk every page of a job's errors."""
    errors: list[dict[str, Any]] = []
    page = 1
    while True:
        response = api.get(
            f"/api/v1/import/{job_uuid}/errors",
            params={"page": page, "limit": 100},
            headers=tenant.headers,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        errors.extend(body["data"]["errors"])
        if body["links"]["next"] is None:
            return errors
        page += 1


def error_fields(errors: list[dict[str, Any]]) -> dict[int, set[str]]:
    """Reduce row errors to ``{row: {field, ...}}``, the form the cases are written in."""
    return {entry["row"]: set(entry["errors"]) for entry in errors}


def users_table(
    api: httpx.Client, tenant: TenantCredentials
) -> dict[str, tuple[Any, ...]]:
    """Map each exported user's email to (cid, first, last, enabled, language, country)."""
    table: dict[str, tuple[Any, ...]] = {}
    page = 1
    while True:
        response = api.get(
            "/api/v1/users",
            params={"page": page, "limit": 100, "include": "language,country"},
            headers=tenant.headers,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        for user in body["data"]:
            table[user["email"]] = (
                user["cid"],
                user["first_name"],
                user["last_name"],
                bool(user["enabled"]),
                user["language"]["code"] if user["language"] else None,
                user["country"]["code"] if user["country"] else None,
            )
        if body["links"]["next"] is None:
            return table
        page += 1


def numbered_users_file(rows: int, last_name: str = "Nümber") -> bytes:
    """A CSV of ``rows`` users: every 250th email invalid, every 7th user disabled,
    and one email repeated at the end."""
    lines = ["email;cid;first_name;last_name;enabled"]
    for index in range(rows):
        email = (
            f"user{index}@example.com" if index % 250 else f"user{index}@foo.invalid"
        )
        enabled = "false" if index % 7 == 0 else "true"
        lines.append(f"{email};C-{index};Üser;{last_name} {index};{enabled}")
    lines.append("user10@example.com;C-dup;Again;Ten;true")
    return ("\n".join(lines) + "\n").encode()


def job_end_state(
    api: httpx.Client, tenant: TenantCredentials, job_uuid: str
) -> tuple[Any, ...]:
    """What a finished job left: its status, its counts, its row errors and the users."""
    status = api.get(
        f"/api/v1/import/{job_uuid}/status", headers=tenant.headers
    ).json()["data"]
    errors = [
        (entry["row"], entry["errors"]) for entry in all_errors(api, tenant, job_uuid)
    ]
    users = {email: values[:4] for email, values in users_table(api, tenant).items()}
    return status["status"], status["summary"], errors, users
