"""The import endpoints: upload checks, status, errors paging, tenant isolation."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from maizeplus.tenants.service import TenantOptions
from tests.conftest import CASES_DIR
from tests.imports.helpers import (
    all_errors,
    error_fields,
    import_file,
    upload,
    upload_bytes,
    users_table,
    wait_for_job,
)
from tests.support import TenantCredentials, make_tenant

HEADER = b"email;cid;first_name;last_name;enabled;language_id;country_id\n"


def _csv(*lines: str) -> bytes:
    return HEADER + "".join(f"{line}\n" for line in lines).encode()


def test_upload_answers_202_running(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    response = upload_bytes(api, tenant, _csv("anna.verdi@example.com;;Anna;Verdi;;;"))

    data = response.json()["data"]
    assert response.status_code == 202
    assert data["status"] == "running"
    assert data["finished_at"] is None
    assert data["started_at"].endswith(".000000Z")
    assert uuid.UUID(data["uuid"])
    assert response.headers["location"].endswith(
        f"/api/v1/import/{data['uuid']}/status"
    )


def test_upload_without_file_is_422(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    response = api.post(
        "/api/v1/import", headers=tenant.headers, files={"other": ("a.csv", b"x")}
    )

    assert response.status_code == 422
    assert response.json() == {
        "message": "The file field is required.",
        "errors": {"file": ["The file field is required."]},
    }


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"", "empty.csv"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "users.pdf"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "users.xls"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "users.csv"),
    ],
)
def test_upload_rejects_other_formats(
    api: httpx.Client, tenant: TenantCredentials, content: bytes, name: str
) -> None:
    response = upload_bytes(api, tenant, content, name)
    latest = api.get("/api/v1/import/latest/status", headers=tenant.headers)

    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["file"]
    assert latest.status_code == 404


def test_upload_requires_token(api: httpx.Client) -> None:
    response = api.post("/api/v1/import", files={"file": ("a.csv", _csv())})

    assert response.status_code == 401
    assert response.json() == {"message": "Unauthenticated."}


def test_status_latest_without_jobs_is_404(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    status = api.get("/api/v1/import/latest/status", headers=tenant.headers)
    errors = api.get("/api/v1/import/latest/errors", headers=tenant.headers)

    assert status.status_code == 404
    assert status.json() == {"message": "Import job not found."}
    assert errors.status_code == 404


def test_status_counts_rows(api: httpx.Client, tenant: TenantCredentials) -> None:
    job = import_file_bytes(
        api,
        tenant,
        _csv(
            "anna.verdi@example.com;;Anna;Verdi;;;",
            "luca.bianchi@example.org;;Luca;Bianchi;maybe;;",
        ),
    )

    assert job["status"] == "completed_with_errors"
    assert job["percent_done"] == 100
    assert job["summary"] == {
        "total_rows": 2,
        "processed_rows": 2,
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "failed": 1,
        "created_disabled": 0,
    }
    assert job["file"]["separator"] == ";"


def import_file_bytes(
    api: httpx.Client, tenant: TenantCredentials, content: bytes
) -> dict:  # type: ignore[type-arg]
    response = upload_bytes(api, tenant, content)
    assert response.status_code == 202, response.text
    return wait_for_job(api, tenant, response.json()["data"]["uuid"])


def test_other_tenant_job_is_404(
    api: httpx.Client, tenant: TenantCredentials, other_tenant: TenantCredentials
) -> None:
    job = import_file_bytes(api, tenant, _csv("anna.verdi@example.com;;Anna;Verdi;;;"))

    status = api.get(
        f"/api/v1/import/{job['uuid']}/status", headers=other_tenant.headers
    )
    errors = api.get(
        f"/api/v1/import/{job['uuid']}/errors", headers=other_tenant.headers
    )
    unknown = api.get(f"/api/v1/import/{uuid.uuid4()}/status", headers=tenant.headers)
    latest = api.get("/api/v1/import/latest/status", headers=other_tenant.headers)

    assert status.status_code == 404
    assert errors.status_code == 404
    assert status.json() == unknown.json()
    assert latest.status_code == 404


def test_import_into_one_tenant_only(
    api: httpx.Client, tenant: TenantCredentials, other_tenant: TenantCredentials
) -> None:
    import_file_bytes(api, tenant, _csv("anna.verdi@example.com;;Anna;Verdi;;;"))

    assert set(users_table(api, tenant)) == {"anna.verdi@example.com"}
    assert users_table(api, other_tenant) == {}


def test_errors_paging_rules(api: httpx.Client, tenant: TenantCredentials) -> None:
    job = import_file(api, tenant, CASES_DIR / "C23a-row-numbers.csv")
    base = f"/api/v1/import/{job['uuid']}/errors"

    past_end = api.get(base, params={"page": 2, "limit": 100}, headers=tenant.headers)
    for path in (base, "/api/v1/import/latest/errors"):
        bad_page = api.get(path, params={"page": 0, "limit": 2}, headers=tenant.headers)
        text_page = api.get(
            path, params={"page": "abc", "limit": 2}, headers=tenant.headers
        )
        big_limit = api.get(
            path, params={"page": 1, "limit": 101}, headers=tenant.headers
        )
        far_page = api.get(path, params={"page": 4, "limit": 2}, headers=tenant.headers)
        assert bad_page.status_code == 422
        assert list(bad_page.json()["errors"]) == ["page"]
        assert text_page.status_code == 422
        assert big_limit.status_code == 422
        assert list(big_limit.json()["errors"]) == ["limit"]
        assert far_page.status_code == 200
        assert far_page.json()["data"] == {"errors": []}
        assert far_page.json()["meta"]["total"] == 4
    assert past_end.status_code == 200
    assert past_end.json()["data"] == {"errors": []}


def test_errors_entries_shape(api: httpx.Client, tenant: TenantCredentials) -> None:
    job = import_file_bytes(api, tenant, _csv("someone@foo.invalid;;Some;One;;;"))

    body = api.get(
        f"/api/v1/import/{job['uuid']}/errors", headers=tenant.headers
    ).json()

    assert body["data"]["errors"] == [
        {
            "row": 2,
            "errors": {"email": ["The selected email does not have a valid domain."]},
            "validated_at": body["data"]["errors"][0]["validated_at"],
        }
    ]
    assert len(body["data"]["errors"][0]["validated_at"]) == len("2022-11-08 18:39:54")
    assert body["meta"]["total"] == 1
    assert body["links"]["next"] is None


def test_rerun_counts_unchanged(api: httpx.Client, tenant: TenantCredentials) -> None:
    content = _csv("anna.verdi@example.com;A-1;Anna;Verdi;true;it;IT")
    first = import_file_bytes(api, tenant, content)

    second = import_file_bytes(api, tenant, content)
    third = import_file_bytes(
        api, tenant, _csv("anna.verdi@example.com;A-1;Anna;Rossi;true;it;IT")
    )

    assert first["summary"]["created"] == 1
    assert second["summary"]["unchanged"] == 1
    assert second["summary"]["updated"] == 0
    assert third["summary"]["updated"] == 1
    assert users_table(api, tenant)["anna.verdi@example.com"][2] == "Rossi"


def test_absent_columns_keep_values(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    import_file_bytes(
        api, tenant, _csv("anna.verdi@example.com;A-1;Anna;Verdi;false;fr;FR")
    )

    job = import_file_bytes(
        api,
        tenant,
        b"email;first_name;last_name\nanna.verdi@example.com;Anna;Bianchi\n",
    )

    assert job["status"] == "completed"
    assert users_table(api, tenant)["anna.verdi@example.com"] == (
        "A-1",
        "Anna",
        "Bianchi",
        False,
        "fr",
        "FR",
    )


def test_empty_optional_cells_clear(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    import_file_bytes(
        api, tenant, _csv("anna.verdi@example.com;A-1;Anna;Verdi;true;fr;FR")
    )

    import_file_bytes(api, tenant, _csv("anna.verdi@example.com;;Anna;Verdi;;;"))

    assert users_table(api, tenant)["anna.verdi@example.com"] == (
        None,
        "Anna",
        "Verdi",
        True,
        "it",
        None,
    )


def test_duplicates_across_chunks(
    api: httpx.Client,
    tenant: TenantCredentials,
    live_server,  # type: ignore[no-untyped-def]
) -> None:
    lines = [f"user{index}@example.com;;User;{index};;;" for index in range(12)]
    lines.append("USER3@example.com;;Again;Three;;;")
    live_server.settings.import_chunk_rows = 5

    job = import_file_bytes(api, tenant, _csv(*lines))
    errors = all_errors(api, tenant, job["uuid"])

    assert job["summary"]["created"] == 12
    assert [entry["row"] for entry in errors] == [14]
    assert "row 5" in errors[0]["errors"]["email"][0]


def test_cid_unique_in_tenant(api: httpx.Client, tenant: TenantCredentials) -> None:
    import_file_bytes(api, tenant, _csv("anna.verdi@example.com;X-1;Anna;Verdi;;;"))

    job = import_file_bytes(
        api,
        tenant,
        _csv(
            "luca.bianchi@example.org;X-1;Luca;Bianchi;;;",
            "sara.bruni@example.com;Y-1;Sara;Bruni;;;",
            "elena.rossi@example.net;Y-1;Elena;Rossi;;;",
        ),
    )

    assert error_fields(all_errors(api, tenant, job["uuid"])) == {
        2: {"cid"},
        4: {"cid"},
    }


def test_user_limit_creates_disabled(api: httpx.Client, database_url: str) -> None:
    limited = make_tenant(
        database_url, options=TenantOptions(language_code="it", user_limit=2)
    )

    job = import_file_bytes(
        api,
        limited,
        _csv(
            "a1@example.com;;A;One;;;",
            "a2@example.com;;A;Two;true;;",
            "a3@example.com;;A;Three;true;;",
            "a4@example.com;;A;Four;false;;",
        ),
    )
    users = users_table(api, limited)

    assert job["status"] == "completed"
    assert job["summary"]["created_disabled"] == 1
    assert [users[f"a{index}@example.com"][3] for index in range(1, 5)] == [
        True,
        True,
        False,
        False,
    ]


def test_external_ids_require_cid(api: httpx.Client, database_url: str) -> None:
    linked = make_tenant(
        database_url, options=TenantOptions(language_code="it", external_ids=True)
    )

    job = import_file_bytes(
        api, linked, _csv("a1@example.com;;A;One;;;", "a2@example.com;C-2;A;Two;;;")
    )

    assert error_fields(all_errors(api, linked, job["uuid"])) == {2: {"cid"}}
    assert set(users_table(api, linked)) == {"a2@example.com"}


UNIT_HEADER = (
    b"email;first_name;last_name;business_unit_code;business_unit_name;"
    b"organizational_unit_code;organizational_unit_name;parent_organizational_unit_code\n"
)


def test_units_resolve_parents_in_any_order(
    api: httpx.Client, database_url: str
) -> None:
    units = make_tenant(
        database_url,
        options=TenantOptions(
            language_code="it", business_units=True, organizational_units=True
        ),
    )
    content = UNIT_HEADER + (
        b"child@example.com;Child;User;BU1;Sales;OU-C;Team C;OU-B\n"
        b"mid@example.com;Mid;User;BU1;Sales;OU-B;Team B;OU-A\n"
        b"root@example.com;Root;User;BU2;Support;OU-A;Team A;\n"
        b"loop1@example.com;Loop;One;BU1;Sales;OU-X;Team X;OU-Y\n"
        b"loop2@example.com;Loop;Two;BU1;Sales;OU-Y;Team Y;OU-X\n"
        b"orphan@example.com;Orphan;User;BU1;Sales;OU-Z;Team Z;OU-NONE\n"
        b"loop3@example.com;Loop;Three;BU1;Sales;OU-X;Team X;OU-Y\n"
        b"child2@example.com;Child;Two;BU1;Sales;OU-C;Team C;OU-B\n"
    )

    job = import_file_bytes(api, units, content)
    errors = error_fields(all_errors(api, units, job["uuid"]))
    exported = api.get(
        "/api/v1/users",
        params={"include": "organizationalUnit.businessUnit"},
        headers=units.headers,
    ).json()["data"]
    by_email = {user["email"]: user for user in exported}

    assert errors == {
        5: {"parent_organizational_unit_code"},
        6: {"parent_organizational_unit_code"},
        7: {"parent_organizational_unit_code"},
        8: {"parent_organizational_unit_code"},
    }
    assert set(by_email) == {
        "child@example.com",
        "child2@example.com",
        "mid@example.com",
        "root@example.com",
    }
    assert by_email["child@example.com"]["organizational_unit"] == {
        "code": "OU-C",
        "name": "Team C",
        "business_unit": {"code": "BU1", "name": "Sales"},
    }


def test_units_required_when_enabled(api: httpx.Client, database_url: str) -> None:
    units = make_tenant(
        database_url,
        options=TenantOptions(
            language_code="it", business_units=True, organizational_units=True
        ),
    )

    job = import_file_bytes(api, units, UNIT_HEADER + b"a@example.com;A;B;;;;;\n")

    assert job["status"] == "completed_with_errors"
    assert error_fields(all_errors(api, units, job["uuid"])) == {
        2: {
            "business_unit_code",
            "business_unit_name",
            "organizational_unit_code",
            "organizational_unit_name",
        }
    }


def test_units_columns_missing_fail_job(api: httpx.Client, database_url: str) -> None:
    units = make_tenant(
        database_url, options=TenantOptions(language_code="it", business_units=True)
    )

    job = import_file_bytes(api, units, _csv("a@example.com;;A;B;;;"))

    assert job["status"] == "failed"
    assert error_fields(all_errors(api, units, job["uuid"])) == {
        1: {"business_unit_code", "business_unit_name"}
    }
    assert users_table(api, units) == {}


def test_repeated_column_fails_job(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    job = import_file_bytes(
        api,
        tenant,
        b"email;first_name;last_name;Email\na@example.com;A;B;b@example.com\n",
    )

    assert job["status"] == "failed"
    assert "email" in job["message"]
    assert users_table(api, tenant) == {}


def test_header_only_file_fails(api: httpx.Client, tenant: TenantCredentials) -> None:
    job = import_file_bytes(api, tenant, HEADER)

    assert job["status"] == "failed"
    assert job["message"]


def test_body_over_limit_is_413(
    api: httpx.Client, tenant: TenantCredentials, live_server
) -> None:  # type: ignore[no-untyped-def]
    live_server.settings.import_max_upload_bytes = 1000

    over_file = upload_bytes(api, tenant, _csv(*["a@example.com;;A;B;;;"] * 60))
    over_body = upload_bytes(api, tenant, _csv(*["a@example.com;;A;B;;;"] * 20000))
    latest = api.get("/api/v1/import/latest/status", headers=tenant.headers)

    assert over_file.status_code == 422
    assert over_file.json()["errors"]["file"] == [
        "The file field must not be greater than 0 kilobytes."
    ]
    assert over_body.status_code == 413
    assert "kilobytes" in over_body.json()["message"]
    assert latest.status_code == 404


def test_xlsx_upload_by_content(api: httpx.Client, tenant: TenantCredentials) -> None:
    response = upload(
        api, tenant, CASES_DIR / "C15-inline-strings-no-sharedstrings.xlsx", "users.csv"
    )

    job = wait_for_job(api, tenant, response.json()["data"]["uuid"])

    assert job["file"]["format"] == "xlsx"
    assert job["status"] == "completed"


def test_damaged_utf8_file_fails(api: httpx.Client, tenant: TenantCredentials) -> None:
    content = HEADER + "josé.núñez@example.com;;José;Núñez;;;\n".encode() * 3
    content += b"jose@example.com;;Jos\xe9;Nu;;;\n"

    job = import_file_bytes(api, tenant, content)

    assert job["status"] == "failed"
    assert "UTF-8" in job["message"]
    assert users_table(api, tenant) == {}


def test_finished_job_logs_outcome(
    api: httpx.Client, tenant: TenantCredentials, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="maizeplus")

    job = import_file_bytes(api, tenant, _csv("anna.verdi@example.com;;Anna;Verdi;;;"))
    deadline = time.monotonic() + 5
    while "import.finished" not in caplog.messages and time.monotonic() < deadline:
        time.sleep(0.05)

    assert job["status"] == "completed"
    assert "import.finished" in caplog.messages
    assert not [
        record for record in caplog.records if record.levelname in ("WARNING", "ERROR")
    ]
