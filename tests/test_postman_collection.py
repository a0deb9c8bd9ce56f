"""Checks that our Postman collection keeps the requests of the original.

Newman runs ``maizeplus.postman_collection.json`` in CI against our server, so
its requests must be the ones that integrators send. Only the host, the bearer
token field that Newman reads, the upload files and the test scripts may differ.
"""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest

POSTMAN_DIR = Path(__file__).parent / "data" / "postman"
REPOSITORY_ROOT = Path(__file__).parent.parent
ORIGINAL_HOST = "https://open.maizeplus.io"
XLSX_COPIES = {
    "Import Users (XLSX)": "Import Users",
    "Import Status (XLSX)": "Import Status",
    "Import Errors (XLSX)": "Import Errors",
}
UPLOADS = {
    "Import Users": "tests/data/postman/import-users.csv",
    "Import Users (XLSX)": "tests/data/postman/import-users.xlsx",
}
# The columns that the demo tenant requires, because it has business and
# organizational units.
UPLOAD_COLUMNS = {
    "email",
    "first_name",
    "last_name",
    "business_unit_code",
    "business_unit_name",
    "organizational_unit_code",
    "organizational_unit_name",
}
DELETED_EMAILS = {"test-import1@example.com", "test-import2@example.com"}

Item = dict[str, Any]


def _load(name: str) -> dict[str, Any]:
    with (POSTMAN_DIR / name).open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = json.load(handle)
    return loaded


def _requests_by_folder(collection: dict[str, Any]) -> dict[tuple[str, str], Item]:
    return {
        (folder["name"], item["name"]): item
        for folder in collection["item"]
        for item in folder["item"]
    }


def _as_original(request: dict[str, Any]) -> dict[str, Any]:
    """Undo the changes that our copy is allowed to make to a request."""
    restored = copy.deepcopy(request)
    restored["url"] = restored["url"].replace("{{base_url}}", ORIGINAL_HOST)
    url_object = restored["urlObject"]
    if url_object["host"] == ["{{base_url}}"]:
        url_object["host"] = ["open", "maizeplus", "io"]
        url_object = {"protocol": "https", **url_object}
        restored["urlObject"] = url_object
    auth = restored.get("auth")
    if auth is not None:
        auth["bearer"].pop("token", None)
    body = restored.get("body") or {}
    for part in body.get("formdata", []):
        part.pop("src", None)
    return restored


@pytest.fixture(scope="module")
def original() -> dict[str, Any]:
    return _load("original.postman_collection.json")


@pytest.fixture(scope="module")
def ours() -> dict[str, Any]:
    return _load("maizeplus.postman_collection.json")


def test_original_requests_unchanged(
    original: dict[str, Any], ours: dict[str, Any]
) -> None:
    our_requests = _requests_by_folder(ours)
    for key, item in _requests_by_folder(original).items():
        assert key in our_requests, f"{key} is missing from our collection"
        assert _as_original(our_requests[key]["request"]) == item["request"], key


def test_xlsx_requests_copy_originals(
    original: dict[str, Any], ours: dict[str, Any]
) -> None:
    original_requests = _requests_by_folder(original)
    our_requests = _requests_by_folder(ours)
    for copy_name, source_name in XLSX_COPIES.items():
        source = original_requests[("Users management", source_name)]["request"]
        twin = our_requests[("Users management", copy_name)]["request"]
        assert _as_original(twin) == source, copy_name


def test_request_order(ours: dict[str, Any]) -> None:
    names = [item["name"] for folder in ours["item"] for item in folder["item"]]

    assert names == [
        "Auth",
        "Import Users",
        "Import Status",
        "Import Errors",
        "Import Users (XLSX)",
        "Import Status (XLSX)",
        "Import Errors (XLSX)",
        "Delete Users",
        "Users",
        "Topics",
        "Courses",
        "Progress Courses",
        "Certifications",
        "Progress Certifications",
    ]


def test_item_ids_unique(ours: dict[str, Any]) -> None:
    # The status requests repeat themselves by id, so a duplicate id would make
    # the XLSX poll jump back to the CSV one.
    ids = [item["id"] for folder in ours["item"] for item in folder["item"]]

    assert len(ids) == len(set(ids))


def test_every_request_has_tests(ours: dict[str, Any]) -> None:
    for (folder, name), item in _requests_by_folder(ours).items():
        listeners = [event["listen"] for event in item.get("event", [])]
        assert "test" in listeners, f"{folder} / {name} has no test script"


def test_urls_use_base_url(ours: dict[str, Any]) -> None:
    for key, item in _requests_by_folder(ours).items():
        request = item["request"]
        assert request["url"].startswith("{{base_url}}/"), key
        assert request["urlObject"]["host"] == ["{{base_url}}"], key


def test_requests_send_bearer_token(ours: dict[str, Any]) -> None:
    for key, item in _requests_by_folder(ours).items():
        auth = item["request"].get("auth")
        if key == ("Authentication", "Auth"):
            assert auth is None
            continue
        assert auth is not None, key
        assert auth["bearer"]["token"] in ("{{tenantToken}}", "{{tenant_token}}"), key


def test_auth_keeps_original_script(
    original: dict[str, Any], ours: dict[str, Any]
) -> None:
    original_auth = _requests_by_folder(original)[("Authentication", "Auth")]
    our_auth = _requests_by_folder(ours)[("Authentication", "Auth")]
    original_lines = original_auth["event"][0]["script"]["exec"]
    our_lines = our_auth["event"][0]["script"]["exec"]

    assert our_lines[-len(original_lines) :] == original_lines


@pytest.mark.parametrize("name", sorted(UPLOADS))
def test_upload_path_exists(ours: dict[str, Any], name: str) -> None:
    item = _requests_by_folder(ours)[("Users management", name)]
    (part,) = item["request"]["body"]["formdata"]

    assert part["key"] == "file"
    assert part["src"] == UPLOADS[name]
    assert (REPOSITORY_ROOT / part["src"]).is_file()


def test_csv_upload_has_demo_columns() -> None:
    path = REPOSITORY_ROOT / UPLOADS["Import Users"]
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))

    assert set(rows[0]) >= UPLOAD_COLUMNS
    assert {row["email"] for row in rows} >= DELETED_EMAILS
    for row in rows:
        for column in UPLOAD_COLUMNS:
            assert row[column], f"{row['email']} has no {column}"


def test_xlsx_upload_has_demo_columns() -> None:
    path = REPOSITORY_ROOT / UPLOADS["Import Users (XLSX)"]
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        header, *rows = workbook.worksheets[0].iter_rows(values_only=True)
    finally:
        workbook.close()
    records = [dict(zip(header, row, strict=True)) for row in rows]

    assert set(header) >= UPLOAD_COLUMNS
    assert {record["email"] for record in records} >= DELETED_EMAILS
    for record in records:
        for column in UPLOAD_COLUMNS:
            assert record[column], f"{record['email']} has no {column}"
