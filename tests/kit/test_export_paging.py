"""The paging rules of every export, through the live server.

These are the requests of ``tests/data/cases/C25-pagination-edge-cases.txt``:
the first, last and past pages and the walk (R1 to R5), invalid ``page``
values (R6 to R12), ``limit`` values (R13 to R18) and tokens (R21, R22). Each
runs on every export, as R19 requires. The import errors endpoints of R19, and
R20, which concerns them alone, belong to the imports tests.

The tenant has exactly five rows on each export: five users, topics, courses
and certifications, and one course and one certification progress per user.
Where a test checks isolation, another tenant has the same.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.catalog.arrange import EXPORTS, FiveOfEach, arrange_five_of_each, row_key
from tests.support import TenantCredentials

pytestmark = pytest.mark.parametrize("path", EXPORTS)


@pytest.fixture
def five(database_url: str, tenant: TenantCredentials) -> FiveOfEach:
    return arrange_five_of_each(database_url, tenant.tenant_id, prefix="mine")


@pytest.fixture
def theirs(database_url: str, other_tenant: TenantCredentials) -> FiveOfEach:
    return arrange_five_of_each(database_url, other_tenant.tenant_id, prefix="theirs")


def get(
    api: httpx.Client, path: str, tenant: TenantCredentials, query: str
) -> httpx.Response:
    return api.get(f"{path}?{query}" if query else path, headers=tenant.headers)


def meta_of(response: httpx.Response) -> dict[str, Any]:
    meta: dict[str, Any] = response.json()["meta"]
    return meta


def assert_validation_error(response: httpx.Response, field: str, value: str) -> None:
    """Check the 422 envelope that names ``field``; ``value`` labels a failure."""
    assert response.status_code == 422, f"{field}={value!r}: {response.text}"
    assert response.headers["content-type"] == "application/json", value
    body = response.json()
    assert set(body) == {"message", "errors"}, value
    assert list(body["errors"]) == [field], value
    assert body["errors"][field], value
    assert body["message"] == body["errors"][field][0], value


@pytest.mark.usefixtures("five")
def test_export_first_page(
    api: httpx.Client, tenant: TenantCredentials, path: str
) -> None:
    response = get(api, path, tenant, "page=1&limit=2")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert len(response.json()["data"]) == 2
    meta = meta_of(response)
    assert (meta["current_page"], meta["from"], meta["to"]) == (1, 1, 2)
    assert (meta["per_page"], meta["last_page"], meta["total"]) == (2, 3, 5)


@pytest.mark.usefixtures("five")
def test_export_last_page(
    api: httpx.Client, tenant: TenantCredentials, path: str
) -> None:
    response = get(api, path, tenant, "page=3&limit=2")

    assert response.status_code == 200
    assert len(response.json()["data"]) == 1
    meta = meta_of(response)
    assert (meta["current_page"], meta["from"], meta["to"]) == (3, 5, 5)
    assert (meta["last_page"], meta["total"]) == (3, 5)


@pytest.mark.usefixtures("five")
def test_export_page_past_last_is_empty(
    api: httpx.Client, tenant: TenantCredentials, path: str
) -> None:
    response = get(api, path, tenant, "page=4&limit=2")

    assert response.status_code == 200
    assert response.json()["data"] == []
    meta = meta_of(response)
    assert (meta["current_page"], meta["from"], meta["to"]) == (4, None, None)
    assert (meta["per_page"], meta["last_page"], meta["total"]) == (2, 3, 5)


@pytest.mark.usefixtures("five")
def test_export_far_page_is_empty(
    api: httpx.Client, tenant: TenantCredentials, path: str
) -> None:
    response = get(api, path, tenant, "page=1000000&limit=100")

    assert response.status_code == 200
    assert response.json()["data"] == []
    assert meta_of(response)["total"] == 5
    assert meta_of(response)["current_page"] == 1000000


@pytest.mark.usefixtures("five", "theirs")
def test_export_walk_sees_rows_once(
    api: httpx.Client, tenant: TenantCredentials, path: str
) -> None:
    first = get(api, path, tenant, "page=1&limit=2")
    keys = []
    for page in range(1, meta_of(first)["last_page"] + 1):
        response = get(api, path, tenant, f"page={page}&limit=2")
        assert response.status_code == 200
        keys += [row_key(path, row) for row in response.json()["data"]]

    assert len(keys) == 5
    assert len(set(keys)) == 5


@pytest.mark.usefixtures("five")
def test_export_next_link_keeps_limit(
    api: httpx.Client, tenant: TenantCredentials, path: str
) -> None:
    url: str | None = f"{path}?page=1&limit=2"
    keys = []
    pages = 0
    while url is not None and pages < 10:
        response = api.get(url, headers=tenant.headers)
        assert response.status_code == 200
        assert meta_of(response)["per_page"] == 2
        keys += [row_key(path, row) for row in response.json()["data"]]
        url = response.json()["links"]["next"]
        pages += 1

    assert pages == 3
    assert len(set(keys)) == 5


@pytest.mark.usefixtures("five")
def test_export_invalid_page_is_422(
    api: httpx.Client, tenant: TenantCredentials, path: str
) -> None:
    for page in ("0", "-1", "abc", "1.5", "", "99999999999999999999999"):
        response = get(api, path, tenant, f"page={page}&limit=2")

        assert_validation_error(response, "page", page)


@pytest.mark.usefixtures("five")
def test_export_missing_page_is_first(
    api: httpx.Client, tenant: TenantCredentials, path: str
) -> None:
    response = get(api, path, tenant, "limit=2")

    assert response.status_code == 200
    assert meta_of(response)["current_page"] == 1
    assert len(response.json()["data"]) == 2


@pytest.mark.usefixtures("five")
def test_export_limit_of_100(
    api: httpx.Client, tenant: TenantCredentials, path: str
) -> None:
    response = get(api, path, tenant, "page=1&limit=100")

    assert response.status_code == 200
    assert meta_of(response)["per_page"] == 100
    assert len(response.json()["data"]) == 5


@pytest.mark.usefixtures("five")
def test_export_invalid_limit_is_422(
    api: httpx.Client, tenant: TenantCredentials, path: str
) -> None:
    for limit in ("101", "0", "-5", "abc", ""):
        response = get(api, path, tenant, f"page=1&limit={limit}")

        assert_validation_error(response, "limit", limit)


@pytest.mark.usefixtures("five")
def test_export_default_limit_is_48(
    api: httpx.Client, tenant: TenantCredentials, path: str
) -> None:
    response = get(api, path, tenant, "page=1")

    assert response.status_code == 200
    assert meta_of(response)["per_page"] == 48
    assert len(response.json()["data"]) == 5


def test_export_missing_token_is_401(api: httpx.Client, path: str) -> None:
    response = api.get(f"{path}?page=1&limit=2", headers={"Accept": "application/json"})

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"message": "Unauthenticated."}


def test_export_unknown_token_is_401(api: httpx.Client, path: str) -> None:
    headers = {"Accept": "application/json", "Authorization": "Bearer not-a-token"}

    response = api.get(f"{path}?page=1&limit=2", headers=headers)

    assert response.status_code == 401
    assert response.json() == {"message": "Unauthenticated."}


def test_export_token_checked_before_page(api: httpx.Client, path: str) -> None:
    response = api.get(f"{path}?page=abc")

    assert response.status_code == 401


def test_export_tenant_sees_own_rows(
    api: httpx.Client,
    tenant: TenantCredentials,
    other_tenant: TenantCredentials,
    five: FiveOfEach,
    theirs: FiveOfEach,
    path: str,
) -> None:
    for credentials, arranged, prefix in (
        (tenant, five, "mine"),
        (other_tenant, theirs, "theirs"),
    ):
        rows = get(api, path, credentials, "limit=100").json()["data"]

        assert len(rows) == 5
        if path == "/api/v1/users":
            assert {row["email"] for row in rows} == {u.email for u in arranged.users}
        elif "progress" in path:
            assert {row["user"]["uuid"] for row in rows} == {
                u.uuid for u in arranged.users
            }
        else:
            assert all(row["name"].startswith(prefix) for row in rows), rows


def test_export_sticky_header_ignored(
    api: httpx.Client, tenant: TenantCredentials, path: str
) -> None:
    headers = {**tenant.headers, "x-is-sticky-connection": "true"}

    response = api.get(f"{path}?page=1&limit=2", headers=headers)

    assert response.status_code == 200
    assert response.json()["data"] == []


def test_export_documented_in_openapi(api: httpx.Client, path: str) -> None:
    operation = api.get("/openapi.json").json()["paths"][path]["get"]

    responses = operation["responses"]
    assert "$ref" in responses["200"]["content"]["application/json"]["schema"]
    assert {"200", "401", "422"} <= set(responses)
    parameters = {parameter["name"] for parameter in operation["parameters"]}
    assert {"page", "limit"} <= parameters
    if path == "/api/v1/users":
        assert "400" in responses
        assert "include" in parameters
