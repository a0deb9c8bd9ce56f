"""``maizeplus demo``: the demo tenant, its data and the credentials it prints."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.catalog.models import Certification, Course, Topic
from maizeplus.demo.service import seed_demo
from maizeplus.tenants.models import OrganizationalUnit, ReportReceiver, Tenant
from tests.cli.run import run_maizeplus
from tests.support import run_async


def run_demo(database_url: str, *arguments: str) -> dict[str, Any]:
    result = run_maizeplus(database_url, "demo", "--json", *arguments)
    assert result.returncode == 0, result.stderr
    values: dict[str, Any] = json.loads(result.stdout)
    return values


def token_for(api: httpx.Client, credentials: dict[str, Any]) -> httpx.Response:
    fields = {
        "grant_type": "password",
        "client_id": str(credentials["client_id"]),
        "client_secret": credentials["client_secret"],
        "username": credentials["username"],
        "password": credentials["password"],
        "scope": "*",
    }
    # The demo's curl line sends multipart fields (-F), as the collection does.
    return api.post(
        "/oauth/token",
        files={key: (None, value) for key, value in fields.items()},
        headers={"Accept": "application/json"},
    )


def bearer(api: httpx.Client, credentials: dict[str, Any]) -> dict[str, str]:
    response = token_for(api, credentials)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_demo_prints_working_credentials(api: httpx.Client, database_url: str) -> None:
    credentials = run_demo(
        database_url, "--users", "25", "--base-url", "http://127.0.0.1:9000/"
    )

    assert credentials["base_url"] == "http://127.0.0.1:9000"
    assert credentials["username"] == "api@demo.example.com"
    assert credentials["users"] == 25
    headers = bearer(api, credentials)
    query = "limit=100&include=language,country,organizationalUnit.businessUnit"
    response = api.get(f"/api/v1/users?{query}", headers=headers)
    assert response.status_code == 200
    assert response.json()["meta"]["total"] == 25


def test_demo_data_is_realistic(api: httpx.Client, database_url: str) -> None:
    credentials = run_demo(database_url, "--users", "60")
    headers = bearer(api, credentials)

    query = "limit=100&include=language,country,organizationalUnit.businessUnit"
    users = api.get(f"/api/v1/users?{query}", headers=headers).json()["data"]
    languages = Counter(user["language"]["code"] for user in users)
    countries = {user["country"]["code"] for user in users if user["country"]}
    names = " ".join(f"{user['first_name']} {user['last_name']}" for user in users)
    emails = [user["email"] for user in users]

    assert len(users) == 60
    assert len(languages) >= 4
    assert languages.most_common(1)[0][0] == "it"
    assert len(countries) >= 4
    assert any(not character.isascii() for character in names)
    assert all(
        email.isascii() and email.endswith("@demo.example.com") for email in emails
    )
    assert len(set(emails)) == 60
    assert any(user["organizational_unit"] is None for user in users)
    assert any(
        user["organizational_unit"] and user["organizational_unit"]["business_unit"]
        for user in users
    )
    assert {user["enabled"] for user in users} == {0, 1}


def test_demo_catalogue_and_progress(api: httpx.Client, database_url: str) -> None:
    headers = bearer(api, run_demo(database_url, "--users", "40"))

    def total(path: str) -> int:
        response = api.get(f"{path}?limit=1", headers=headers)
        assert response.status_code == 200, response.text
        count: int = response.json()["meta"]["total"]
        return count

    assert total("/api/v1/topics") == 4
    assert total("/api/v1/courses") == 12
    assert total("/api/v1/certifications") == 5
    assert total("/api/v1/progress-courses") > 40
    assert total("/api/v1/progress-certifications") > 10
    progress = api.get(
        "/api/v1/progress-certifications?limit=100", headers=headers
    ).json()
    states = {row["progress"] for row in progress["data"]}
    assert states == {"started", "completed"}
    assert all(
        (row["finished_at"] is None) == (row["progress"] == "started")
        for row in progress["data"]
    )


def test_demo_tenant_options_and_units(database_url: str) -> None:
    run_demo(database_url, "--users", "5")

    async def inspect(session: AsyncSession) -> dict[str, Any]:
        tenant = (
            await session.execute(select(Tenant).where(Tenant.name == "demo"))
        ).scalar_one()
        units = (
            await session.execute(
                select(OrganizationalUnit).where(
                    OrganizationalUnit.tenant_id == tenant.id
                )
            )
        ).scalars()
        receivers = await session.execute(
            select(ReportReceiver.email).where(ReportReceiver.tenant_id == tenant.id)
        )
        return {
            "options": (
                tenant.language_code,
                tenant.business_units,
                tenant.organizational_units,
            ),
            "parents": [unit.parent_id for unit in units],
            "receivers": list(receivers.scalars()),
        }

    found = run_async(database_url, inspect)

    assert found["options"] == ("it", True, True)
    assert found["receivers"] == ["hr@demo.example.com"]
    assert found["parents"].count(None) == 1
    assert len(found["parents"]) >= 5


def test_demo_rerun_replaces_data(api: httpx.Client, database_url: str) -> None:
    first = run_demo(database_url, "--users", "30")
    second = run_demo(database_url, "--users", "10")

    assert second["data"] == "created"
    assert second["client_secret"] != first["client_secret"]
    assert second["password"] != first["password"]
    assert token_for(api, first).status_code in (400, 401)
    headers = bearer(api, second)
    assert api.get("/api/v1/users", headers=headers).json()["meta"]["total"] == 10
    assert api.get("/api/v1/courses", headers=headers).json()["meta"]["total"] == 12


def test_demo_if_missing_keeps_data(api: httpx.Client, database_url: str) -> None:
    first = run_demo(database_url, "--users", "15")
    first_uuids = [
        user["uuid"]
        for user in api.get(
            "/api/v1/users?limit=100", headers=bearer(api, first)
        ).json()["data"]
    ]

    kept = run_demo(database_url, "--if-missing", "--users", "99")

    assert kept["data"] == "kept"
    assert kept["users"] == 15
    assert kept["password"] != first["password"]
    assert token_for(api, first).status_code in (400, 401)
    headers = bearer(api, kept)
    kept_uuids = [
        user["uuid"]
        for user in api.get("/api/v1/users?limit=100", headers=headers).json()["data"]
    ]
    assert kept_uuids == first_uuids


def test_demo_if_missing_creates_when_absent(database_url: str) -> None:
    created = run_demo(database_url, "--if-missing", "--users", "3")

    assert created["data"] == "created"
    assert created["users"] == 3


def test_demo_same_seed_same_users(database_url: str) -> None:
    first = run_demo(database_url, "--users", "8")
    emails_before = users_by_email(database_url)
    run_demo(database_url, "--users", "8")

    assert first["users"] == 8
    assert users_by_email(database_url) == emails_before


def users_by_email(database_url: str) -> list[tuple[str, str, str]]:
    from maizeplus.users.models import User

    async def read(session: AsyncSession) -> list[tuple[str, str, str]]:
        rows = await session.execute(
            select(User.email, User.uuid, User.first_name).order_by(User.email)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]

    return run_async(database_url, read)


def test_demo_table_output_has_curl_lines(database_url: str) -> None:
    result = run_maizeplus(
        database_url, "demo", "--users", "2", "--base-url", "http://h:1"
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    token_line = next(line for line in lines if "/oauth/token" in line)
    users_line = next(line for line in lines if "/api/v1/users" in line)
    assert token_line.startswith("curl -s -X POST http://h:1/oauth/token")
    for field in (
        "grant_type=password",
        "client_id=",
        "client_secret=",
        "username=",
        "password=",
    ):
        assert f"-F {field}" in token_line
    assert "-F 'scope=*'" in token_line
    assert (
        "'http://h:1/api/v1/users?page=1&limit=5"
        "&include=language,country,organizationalUnit.businessUnit'" in users_line
    )
    assert "-H 'Authorization: Bearer <access_token>'" in users_line
    assert "client_secret" in result.stdout


@pytest.fixture
def insert_statements() -> Iterator[Counter[str]]:
    """Count the INSERT statements sent to any database, by table."""
    counts: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO"):
            counts[statement.split()[2].strip('"')] += 1

    event.listen(Engine, "before_cursor_execute", count)
    yield counts
    event.remove(Engine, "before_cursor_execute", count)


def test_demo_one_insert_per_table(
    database_url: str, insert_statements: Counter[str]
) -> None:
    async def seed(session: AsyncSession) -> None:
        await seed_demo(session, users=300, if_missing=False)

    run_async(database_url, seed)

    for table in ("users", "course_progress", "certification_progress", "courses"):
        assert insert_statements[table] == 1, table

    async def count_catalogue(session: AsyncSession) -> list[int]:
        return [
            (
                await session.execute(select(func.count()).select_from(model))
            ).scalar_one()
            for model in (Topic, Course, Certification)
        ]

    assert run_async(database_url, count_catalogue) == [4, 12, 5]
