"""Tenant isolation: a token of tenant A never reads or changes anything of tenant B.

Tenant B gets users, units, a catalogue, progress and import jobs with row
errors. Then tenant A's token calls every operation of the OpenAPI document
with B's job uuids, emails and unit codes, and B's rows are compared by a
checksum of every table that has a ``tenant_id``. ``ATTACKS`` must name every
operation of the document, so a new endpoint fails this module until it has
an attack of its own.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.db.base import Base
from maizeplus.imports.models import ImportJob, ReportStatus
from maizeplus.tenants.models import Tenant
from maizeplus.tenants.service import TenantOptions
from tests.auth.oauth import log_in, password_fields, post_token
from tests.catalog.arrange import EXPORTS, arrange_five_of_each
from tests.imports.helpers import upload_bytes, wait_for_job
from tests.support import TenantCredentials, make_tenant, run_async

UNIT_OPTIONS = TenantOptions(
    language_code="it", business_units=True, organizational_units=True
)
UNIT_HEADER = (
    "email;first_name;last_name;business_unit_code;business_unit_name;"
    "organizational_unit_code;organizational_unit_name;parent_organizational_unit_code"
)
RANDOM_UUIDS = 1000
# Tenant B's emails, names and catalogue carry this marker. It contains a z,
# which no uuid or hex digest does: "bee" once matched a uuid of tenant A.
B_MARKER = "bzz"


@dataclass
class Scene:
    """Tenants A and B, B's data, and a client of A's token."""

    api: httpx.Client
    database_url: str
    a: TenantCredentials
    b: TenantCredentials
    b_emails: list[str]
    b_user_uuids: set[str]
    b_job_uuids: list[str]
    b_refresh_token: str


def tenant_checksum(database_url: str, tenant_id: int) -> dict[str, str]:
    """Hash every row of the tenant, table by table, in primary-key order."""

    async def work(session: AsyncSession) -> dict[str, str]:
        digests: dict[str, str] = {}
        tenant_row = (
            await session.execute(
                select(Tenant.__table__).where(Tenant.id == tenant_id)
            )
        ).all()
        digests["tenants"] = hashlib.sha256(repr(tenant_row).encode()).hexdigest()
        for table in Base.metadata.sorted_tables:
            if "tenant_id" not in table.c:
                continue
            rows = (
                await session.execute(
                    select(table)
                    .where(table.c.tenant_id == tenant_id)
                    .order_by(*table.primary_key.columns)
                )
            ).all()
            digests[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
        return digests

    return run_async(database_url, work)


def wait_for_reports(database_url: str, tenant_id: int, timeout: float = 30) -> None:
    """Wait until every finished job of the tenant has its report settled."""

    async def pending(session: AsyncSession) -> int:
        rows = await session.execute(
            select(ImportJob.id).where(
                ImportJob.tenant_id == tenant_id,
                ImportJob.report_status == ReportStatus.PENDING,
            )
        )
        return len(rows.all())

    deadline = time.monotonic() + timeout
    while run_async(database_url, pending):
        assert time.monotonic() < deadline, "the report of a job stayed pending"
        time.sleep(0.05)


def import_as(api: httpx.Client, tenant: TenantCredentials, text: str) -> str:
    response = upload_bytes(api, tenant, text.encode())
    assert response.status_code == 202, response.text
    job_uuid: str = response.json()["data"]["uuid"]
    wait_for_job(api, tenant, job_uuid)
    return job_uuid


@pytest.fixture
def scene(api: httpx.Client, database_url: str) -> Scene:
    a = make_tenant(database_url, options=UNIT_OPTIONS)
    b = make_tenant(database_url, options=UNIT_OPTIONS)
    arrange_five_of_each(database_url, a.tenant_id, prefix="ant")
    arranged = arrange_five_of_each(database_url, b.tenant_id, prefix=B_MARKER)
    b_jobs = [
        import_as(
            api,
            b,
            f"{UNIT_HEADER}\n"
            "bzz.unit@example.com;Bzz;Unit;BU-B;B Sales;OU-B;B Team;\n"
            "bzz.child@example.com;Bzz;Child;BU-B;B Sales;OU-B2;B Child;OU-B\n"
            "not-an-email;Bzz;Broken;BU-B;B Sales;OU-B;B Team;\n",
        ),
        import_as(api, b, f"{UNIT_HEADER}\nbzz.second@example.com;Bzz;Two;;;;;\n"),
    ]
    b_users = api.get("/api/v1/users", params={"limit": 100}, headers=b.headers).json()[
        "data"
    ]
    refresh_token = log_in(api, b)["refresh_token"]
    wait_for_reports(database_url, b.tenant_id)
    return Scene(
        api=api,
        database_url=database_url,
        a=a,
        b=b,
        b_emails=[user["email"] for user in b_users]
        + [user.email for user in arranged.users],
        b_user_uuids={user["uuid"] for user in b_users},
        b_job_uuids=b_jobs,
        b_refresh_token=refresh_token,
    )


def all_pages(api: httpx.Client, path: str, headers: dict[str, str]) -> list[Any]:
    params: dict[str, Any] = {"limit": 100, "page": 1}
    if path == "/api/v1/users":
        params["include"] = "language,country,organizationalUnit.businessUnit"
    items: list[Any] = []
    while True:
        response = api.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["data"]
        if body["links"]["next"] is None:
            return items
        params["page"] += 1


# --- One attack per operation -----------------------------------------------------


def read_exports(scene: Scene) -> None:
    for path in EXPORTS:
        text = repr(all_pages(scene.api, path, scene.a.headers))

        assert B_MARKER not in text, path
        assert "B Team" not in text, path
        for user_uuid in scene.b_user_uuids:
            assert user_uuid not in text, path


def delete_b_users(scene: Scene) -> None:
    a_email = "ant000@example.com"
    for body in (
        {"data": {"emails[]": scene.b_emails}},
        {"json": {"emails": scene.b_emails[:3]}},
        {"data": {"emails[]": [a_email, scene.b_emails[0]]}},
    ):
        response = scene.api.request(
            "DELETE", "/api/v1/users", headers=scene.a.headers, **body
        )

        assert response.status_code == 404, response.text
    query = scene.api.request(
        "DELETE",
        "/api/v1/users",
        params={"emails[]": scene.b_emails[0]},
        headers=scene.a.headers,
    )
    a_emails = {
        user["email"] for user in all_pages(scene.api, "/api/v1/users", scene.a.headers)
    }

    assert query.status_code == 404
    assert a_email in a_emails


def import_b_rows(scene: Scene) -> None:
    rows = [
        f"{email};Ant;Copy;BU-B;A Sales;OU-B2;A Team;OU-B" for email in scene.b_emails
    ]
    job_uuid = import_as(scene.api, scene.a, "\n".join([UNIT_HEADER, *rows]) + "\n")
    status = scene.api.get(
        f"/api/v1/import/{job_uuid}/status", headers=scene.a.headers
    ).json()["data"]
    users = all_pages(scene.api, "/api/v1/users", scene.a.headers)
    copied = [user for user in users if user["first_name"] == "Ant"]

    # B's OU-B is no parent in A, so every row is reported, whatever B has.
    assert status["status"] == "completed_with_errors"
    assert status["summary"]["failed"] == len(rows)
    assert copied == []
    wait_for_reports(scene.database_url, scene.a.tenant_id)


def read_b_jobs(scene: Scene) -> None:
    unknown = scene.api.get(
        f"/api/v1/import/{uuid.uuid4()}/status", headers=scene.a.headers
    )
    for job_uuid in scene.b_job_uuids:
        for step in ("status", "errors"):
            for reference in (job_uuid, job_uuid.upper()):
                response = scene.api.get(
                    f"/api/v1/import/{reference}/{step}", headers=scene.a.headers
                )

                assert response.status_code == 404, response.text
                assert response.json() == unknown.json()
    latest = scene.api.get("/api/v1/import/latest/status", headers=scene.a.headers)

    assert latest.status_code == 200
    assert latest.json()["data"]["uuid"] not in scene.b_job_uuids


def take_tokens_across(scene: Scene) -> None:
    a_client_b_account = post_token(
        scene.api,
        password_fields(scene.a, username=scene.b.username, password=scene.b.password),
    )
    b_client_a_account = post_token(
        scene.api,
        password_fields(scene.b, username=scene.a.username, password=scene.a.password),
    )
    a_client_b_refresh = post_token(
        scene.api,
        {
            "grant_type": "refresh_token",
            "client_id": scene.a.client_id,
            "client_secret": scene.a.client_secret,
            "refresh_token": scene.b_refresh_token,
        },
    )
    a_client_credentials = post_token(
        scene.api,
        {
            "grant_type": "client_credentials",
            "client_id": scene.a.client_id,
            "client_secret": scene.a.client_secret,
        },
    )

    for response in (a_client_b_account, b_client_a_account, a_client_b_refresh):
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "invalid_grant"
        assert "access_token" not in response.json()
    assert a_client_credentials.status_code == 200
    machine = {"Authorization": f"Bearer {a_client_credentials.json()['access_token']}"}
    assert B_MARKER not in repr(all_pages(scene.api, "/api/v1/users", machine))


def revoke_b_tokens(scene: Scene) -> None:
    for token in (scene.b.access_token, scene.b_refresh_token):
        response = scene.api.post(
            "/oauth/token/revoke",
            data={
                "client_id": str(scene.a.client_id),
                "client_secret": scene.a.client_secret,
                "token": token,
            },
        )

        # RFC 7009: a token of another client gets the same 200 and stays valid.
        assert response.status_code == 200, response.text
        assert response.json() == {}


def read_probes(scene: Scene) -> None:
    for path in ("/health", "/ready"):
        response = scene.api.get(path, headers=scene.a.headers)

        assert response.status_code == 200
        assert B_MARKER not in response.text


ATTACKS: dict[tuple[str, str], Callable[[Scene], None]] = {
    ("GET", "/health"): read_probes,
    ("GET", "/ready"): read_probes,
    ("POST", "/oauth/token"): take_tokens_across,
    ("POST", "/oauth/token/revoke"): revoke_b_tokens,
    ("DELETE", "/api/v1/users"): delete_b_users,
    ("POST", "/api/v1/import"): import_b_rows,
    ("GET", "/api/v1/import/{reference}/status"): read_b_jobs,
    ("GET", "/api/v1/import/{reference}/errors"): read_b_jobs,
    **{("GET", path): read_exports for path in EXPORTS},
}


def test_attacks_cover_every_operation(api: httpx.Client) -> None:
    document = api.get("/openapi.json").json()
    operations = {
        (method.upper(), path)
        for path, methods in document["paths"].items()
        for method in methods
    }

    assert operations == set(ATTACKS)


def test_tenant_a_leaves_b_unchanged(scene: Scene) -> None:
    before = tenant_checksum(scene.database_url, scene.b.tenant_id)
    empty = hashlib.sha256(b"[]").hexdigest()
    b_exports = [repr(all_pages(scene.api, path, scene.b.headers)) for path in EXPORTS]

    # The checks below look for B's data, so B must have some everywhere.
    assert all(B_MARKER in text or "B Team" in text for text in b_exports[:4])
    assert all(any(u in text for u in scene.b_user_uuids) for text in b_exports[4:])
    assert before["users"] != empty
    assert before["import_row_errors"] != empty
    assert before["organizational_units"] != empty

    for attack in dict.fromkeys(ATTACKS.values()):
        attack(scene)
    after = tenant_checksum(scene.database_url, scene.b.tenant_id)
    b_users = scene.api.get("/api/v1/users", headers=scene.b.headers)

    assert after == before
    assert b_users.status_code == 200
    assert {user["uuid"] for user in b_users.json()["data"]} >= scene.b_user_uuids


def test_random_job_uuids_all_404(
    api: httpx.Client, tenant: TenantCredentials, other_tenant: TenantCredentials
) -> None:
    response = upload_bytes(api, other_tenant, b"email;first_name;last_name\n")
    other_job = response.json()["data"]["uuid"]
    references = [str(uuid.uuid4()) for _ in range(RANDOM_UUIDS)] + [other_job]
    bodies: set[str] = set()
    statuses: set[int] = set()
    started = time.monotonic()

    for index, reference in enumerate(references):
        step = "status" if index % 2 else "errors"
        answer = api.get(f"/api/v1/import/{reference}/{step}", headers=tenant.headers)
        statuses.add(answer.status_code)
        bodies.add(answer.text)

    assert statuses == {404}
    assert bodies == {'{"message":"Import job not found."}'}
    assert time.monotonic() - started < 120
