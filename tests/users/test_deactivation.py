"""DELETE /api/v1/users: all or nothing, in every body encoding; operators restore."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

from tests.imports.helpers import (
    all_errors,
    error_fields,
    upload_bytes,
    users_table,
    wait_for_job,
)
from tests.support import TenantCredentials

USERS = (
    b"email;first_name;last_name\n"
    b"test-import1@example.com;Test;One\n"
    b"test-import2@example.com;Test;Two\n"
    b"keep@example.com;Keep;Me\n"
)


def _import(
    api: httpx.Client, tenant: TenantCredentials, content: bytes = USERS
) -> str:
    response = upload_bytes(api, tenant, content)
    job_uuid: str = response.json()["data"]["uuid"]
    wait_for_job(api, tenant, job_uuid)
    return job_uuid


def _delete(
    api: httpx.Client, tenant: TenantCredentials, mode: str, emails: list[str]
) -> httpx.Response:
    headers = dict(tenant.headers)
    if mode == "urlencoded":
        return api.request(
            "DELETE",
            "/api/v1/users",
            headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
            content="&".join(f"emails%5B%5D={email}" for email in emails),
        )
    if mode == "query":
        return api.request(
            "DELETE",
            "/api/v1/users",
            headers=headers,
            params=[("emails[]", email) for email in emails],
        )
    return api.request(
        "DELETE",
        "/api/v1/users",
        headers={**headers, "Content-Type": "application/json"},
        content=json.dumps({"emails": emails}),
    )


@pytest.mark.parametrize("mode", ["urlencoded", "query", "json"])
def test_delete_deactivates_named_users(
    api: httpx.Client, tenant: TenantCredentials, mode: str
) -> None:
    _import(api, tenant)

    response = _delete(
        api, tenant, mode, ["test-import2@example.com", "Test-Import1@Example.com"]
    )

    assert response.status_code == 204
    assert response.content == b""
    assert set(users_table(api, tenant)) == {"keep@example.com"}


def test_delete_unknown_changes_nothing(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    _import(api, tenant)

    response = _delete(
        api, tenant, "urlencoded", ["test-import1@example.com", "nobody@example.com"]
    )

    assert response.status_code == 404
    assert "nobody@example.com" in response.json()["message"]
    assert "test-import1@example.com" not in response.json()["message"]
    assert len(users_table(api, tenant)) == 3


def test_delete_other_tenant_user_is_404(
    api: httpx.Client, tenant: TenantCredentials, other_tenant: TenantCredentials
) -> None:
    _import(api, tenant)

    response = _delete(api, other_tenant, "urlencoded", ["keep@example.com"])

    assert response.status_code == 404
    assert len(users_table(api, tenant)) == 3


@pytest.mark.parametrize(
    ("emails", "field"),
    [
        ([], "emails"),
        (["not-an-address"], "emails.0"),
        (["keep@example.com", "x@"], "emails.1"),
    ],
)
def test_delete_invalid_input_is_422(
    api: httpx.Client, tenant: TenantCredentials, emails: list[str], field: str
) -> None:
    _import(api, tenant)

    response = _delete(api, tenant, "json", emails)

    assert response.status_code == 422
    assert list(response.json()["errors"]) == [field]
    assert len(users_table(api, tenant)) == 3


def test_delete_requires_token(api: httpx.Client) -> None:
    response = api.request(
        "DELETE", "/api/v1/users", params={"emails[]": "a@example.com"}
    )

    assert response.status_code == 401


def test_import_does_not_restore_deleted(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    _import(api, tenant)
    _delete(api, tenant, "json", ["keep@example.com"])

    job_uuid = _import(
        api, tenant, b"email;first_name;last_name\nkeep@example.com;Keep;Again\n"
    )

    assert error_fields(all_errors(api, tenant, job_uuid)) == {2: {"email"}}
    assert "keep@example.com" not in users_table(api, tenant)


def test_restore_command_brings_user_back(
    api: httpx.Client, tenant: TenantCredentials, database_url: str
) -> None:
    _import(api, tenant)
    _delete(api, tenant, "json", ["keep@example.com"])
    environment = {**os.environ, "MAIZEPLUS_DATABASE_URL": database_url}

    restored = subprocess.run(
        [
            sys.executable,
            "-m",
            "maizeplus.cli",
            "users",
            "restore",
            "--tenant",
            tenant.name,
            "--json",
            "keep@example.com",
        ],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    unknown = subprocess.run(
        [
            sys.executable,
            "-m",
            "maizeplus.cli",
            "users",
            "restore",
            "--tenant",
            tenant.name,
            "nobody@example.com",
        ],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )

    assert restored.returncode == 0, restored.stderr
    assert json.loads(restored.stdout)["restored"] == 1
    assert "keep@example.com" in users_table(api, tenant)
    assert unknown.returncode == 1
    assert "nobody@example.com" in unknown.stderr


def test_delete_deeply_nested_json_is_422(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    response = api.request(
        "DELETE",
        "/api/v1/users",
        headers={**tenant.headers, "Content-Type": "application/json"},
        content=b"[" * 3000 + b"]" * 3000,
    )

    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["emails"]


def test_delete_large_body_is_413(api: httpx.Client, tenant: TenantCredentials) -> None:
    body = json.dumps({"emails": ["nobody@example.com"], "pad": "x" * 2_000_000})

    response = api.request(
        "DELETE",
        "/api/v1/users",
        headers={**tenant.headers, "Content-Type": "application/json"},
        content=body,
    )

    assert response.status_code == 413
