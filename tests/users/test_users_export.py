"""``GET /api/v1/users``: fields, includes, deactivated users, links and pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from maizeplus.settings import Settings
from maizeplus.tenants.service import TenantOptions
from tests.support import LiveServer, TenantCredentials, make_tenant
from tests.users.arrange import UserSpec, add_units, add_users, numbered_users

ALL_INCLUDES = "language,country,organizationalUnit.businessUnit"
BASE_KEYS = ["uuid", "cid", "first_name", "last_name", "email", "enabled"]


def users_of(
    api: httpx.Client, tenant: TenantCredentials, query: str = "limit=100"
) -> list[dict[str, Any]]:
    response = api.get(f"/api/v1/users?{query}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["data"]
    return rows


def by_email(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["email"]: row for row in rows}


@pytest.fixture
def related(database_url: str, tenant: TenantCredentials) -> list[UserSpec]:
    """One user with every relation, one with none, and one with a unit but no BU."""
    business_id, unit_id = add_units(
        database_url,
        tenant.tenant_id,
        business_unit=("BUC", "Business Unit Code"),
        organizational_unit=("OUC", "Organizational Unit Code"),
    )
    return add_users(
        database_url,
        tenant.tenant_id,
        [
            UserSpec(
                email="test-user@example.com",
                cid="test-user",
                first_name="Test",
                last_name="User",
                language_code="it",
                country_code="IT",
                business_unit_id=business_id,
                organizational_unit_id=unit_id,
            ),
            UserSpec(email="bare@example.com", first_name="Zoë", enabled=False),
            UserSpec(
                email="unit-only@example.com",
                language_code="fr",
                organizational_unit_id=unit_id,
            ),
        ],
    )


def test_users_fields_without_include(
    api: httpx.Client, tenant: TenantCredentials, related: list[UserSpec]
) -> None:
    rows = by_email(users_of(api, tenant))

    full = rows["test-user@example.com"]
    assert list(full) == BASE_KEYS
    assert full == {
        "uuid": related[0].uuid,
        "cid": "test-user",
        "first_name": "Test",
        "last_name": "User",
        "email": "test-user@example.com",
        "enabled": 1,
    }
    assert rows["bare@example.com"]["enabled"] == 0
    assert rows["bare@example.com"]["cid"] is None
    assert rows["bare@example.com"]["first_name"] == "Zoë"


@pytest.mark.usefixtures("related")
def test_users_every_include_shape(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    rows = by_email(users_of(api, tenant, f"limit=100&include={ALL_INCLUDES}"))

    full = rows["test-user@example.com"]
    assert list(full) == [
        "uuid",
        "cid",
        "first_name",
        "last_name",
        "email",
        "language",
        "country",
        "organizational_unit",
        "enabled",
    ]
    assert full["language"] == {"code": "it", "name": "Italiano"}
    assert full["country"] == {"code": "IT", "name": "Italy"}
    assert full["organizational_unit"] == {
        "code": "OUC",
        "name": "Organizational Unit Code",
        "business_unit": {"code": "BUC", "name": "Business Unit Code"},
    }


@pytest.mark.usefixtures("related")
def test_users_missing_relations_are_null(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    rows = by_email(users_of(api, tenant, f"limit=100&include={ALL_INCLUDES}"))

    bare = rows["bare@example.com"]
    assert bare["country"] is None
    assert bare["organizational_unit"] is None
    unit_only = rows["unit-only@example.com"]
    assert unit_only["language"] == {"code": "fr", "name": "Français"}
    assert unit_only["organizational_unit"]["business_unit"] is None


@pytest.mark.usefixtures("related")
def test_users_without_language_show_tenant_language(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    rows = by_email(users_of(api, tenant, "limit=100&include=language"))

    assert rows["bare@example.com"]["language"] == {"code": "it", "name": "Italiano"}


def test_users_tenant_language_is_per_tenant(
    api: httpx.Client, database_url: str
) -> None:
    german = make_tenant(database_url, options=TenantOptions(language_code="de"))
    add_users(database_url, german.tenant_id, [UserSpec(email="anna@example.de")])

    rows = users_of(api, german, "include=language")

    assert rows[0]["language"] == {"code": "de", "name": "Deutsch"}


@pytest.mark.usefixtures("related")
@pytest.mark.parametrize(
    ("include", "present", "absent"),
    [
        ("language", {"language"}, {"country", "organizational_unit"}),
        ("country", {"country"}, {"language", "organizational_unit"}),
        ("organizationalUnit", {"organizational_unit"}, {"language", "country"}),
        ("", set(), {"language", "country", "organizational_unit"}),
        (" country , language ", {"country", "language"}, {"organizational_unit"}),
    ],
)
def test_users_include_adds_only_named_relations(
    api: httpx.Client,
    tenant: TenantCredentials,
    include: str,
    present: set[str],
    absent: set[str],
) -> None:
    full = by_email(users_of(api, tenant, f"include={include}"))[
        "test-user@example.com"
    ]

    assert present <= set(full)
    assert not absent & set(full)


@pytest.mark.usefixtures("related")
def test_users_unit_include_omits_business_unit(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    full = by_email(users_of(api, tenant, "include=organizationalUnit"))[
        "test-user@example.com"
    ]

    assert full["organizational_unit"] == {
        "code": "OUC",
        "name": "Organizational Unit Code",
    }


@pytest.mark.parametrize(
    ("include", "named"),
    [
        ("foo", "foo"),
        ("language,foo,bar", "foo, bar"),
        ("Language", "Language"),
        ("businessUnit", "businessUnit"),
    ],
)
def test_users_unknown_include_is_400(
    api: httpx.Client, tenant: TenantCredentials, include: str, named: str
) -> None:
    response = api.get(f"/api/v1/users?include={include}", headers=tenant.headers)

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "message": f"Requested include(s) `{named}` are not allowed. Allowed "
        "include(s) are `language, country, organizationalUnit, "
        "organizationalUnit.businessUnit`."
    }


def test_users_deactivated_are_hidden(
    api: httpx.Client, database_url: str, tenant: TenantCredentials
) -> None:
    gone = UserSpec(
        email="gone@example.com", deactivated_at=datetime(2024, 1, 2, 3, 4, 5)
    )
    add_users(database_url, tenant.tenant_id, [*numbered_users(3), gone])

    response = api.get("/api/v1/users?limit=2", headers=tenant.headers)
    emails = {row["email"] for row in users_of(api, tenant)}

    assert "gone@example.com" not in emails
    assert len(emails) == 3
    assert response.json()["meta"]["total"] == 3
    assert response.json()["meta"]["last_page"] == 2


def test_users_walk_interleaved_tenants(
    api: httpx.Client,
    database_url: str,
    tenant: TenantCredentials,
    other_tenant: TenantCredentials,
) -> None:
    # Ids of the two tenants interleave, so a page that ignored the tenant in
    # its key order would skip or repeat rows.
    for batch in range(4):
        add_users(database_url, tenant.tenant_id, numbered_users(6, f"mine{batch}-"))
        add_users(
            database_url, other_tenant.tenant_id, numbered_users(5, f"their{batch}-")
        )

    seen = []
    for page in range(1, 8):
        seen += [row["email"] for row in users_of(api, tenant, f"page={page}&limit=4")]

    assert len(seen) == 24
    assert len(set(seen)) == 24
    assert all(email.startswith("mine") for email in seen)


@pytest.mark.parametrize(
    ("users", "page", "expected"),
    [
        (1, 1, ["« Previous", "1", "Next »"]),
        (5, 3, ["« Previous", "1", "2", "3", "4", "5", "Next »"]),
        (
            50,
            25,
            [
                "« Previous",
                "1",
                "2",
                "...",
                *map(str, range(22, 29)),
                "...",
                "49",
                "50",
                "Next »",
            ],
        ),
    ],
)
def test_users_meta_links_window(
    api: httpx.Client,
    database_url: str,
    tenant: TenantCredentials,
    users: int,
    page: int,
    expected: list[str],
) -> None:
    add_users(database_url, tenant.tenant_id, numbered_users(users))

    response = api.get(f"/api/v1/users?page={page}&limit=1", headers=tenant.headers)

    links = response.json()["meta"]["links"]
    assert [link["label"] for link in links] == expected
    assert [link["label"] for link in links if link["active"]] == [str(page)]
    assert response.json()["meta"]["last_page"] == users
    base = f"{api.base_url}/api/v1/users?limit=1&page="
    numbered = [link for link in links if link["label"].isdigit()]
    assert all(link["url"] == f"{base}{link['label']}" for link in numbered)
    previous, following = links[0], links[-1]
    assert previous["url"] == (f"{base}{page - 1}" if page > 1 else None)
    assert following["url"] == (f"{base}{page + 1}" if page < users else None)


def test_users_links_keep_include_and_limit(
    api: httpx.Client, database_url: str, tenant: TenantCredentials
) -> None:
    add_users(database_url, tenant.tenant_id, numbered_users(3))

    body = api.get(
        f"/api/v1/users?page=2&limit=1&include={ALL_INCLUDES}", headers=tenant.headers
    ).json()

    query = "limit=1&include=language%2Ccountry%2CorganizationalUnit.businessUnit"
    assert body["links"] == {
        "first": f"{api.base_url}/api/v1/users?{query}&page=1",
        "last": f"{api.base_url}/api/v1/users?{query}&page=3",
        "prev": f"{api.base_url}/api/v1/users?{query}&page=1",
        "next": f"{api.base_url}/api/v1/users?{query}&page=3",
    }
    assert body["meta"]["path"] == f"{api.base_url}/api/v1/users"


def test_users_links_use_base_url_setting(
    settings: Settings, database_url: str, tenant: TenantCredentials
) -> None:
    add_users(database_url, tenant.tenant_id, numbered_users(2))
    public = settings.model_copy(update={"base_url": "https://open.example.com/"})
    server = LiveServer(public).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            body = client.get("/api/v1/users?limit=1", headers=tenant.headers).json()
    finally:
        server.stop()

    assert body["meta"]["path"] == "https://open.example.com/api/v1/users"
    assert (
        body["links"]["next"] == "https://open.example.com/api/v1/users?limit=1&page=2"
    )


def test_users_empty_tenant_has_one_empty_page(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    body = api.get("/api/v1/users", headers=tenant.headers).json()

    assert body["data"] == []
    assert body["meta"]["total"] == 0
    assert body["meta"]["last_page"] == 1
    assert body["meta"]["from"] is None
