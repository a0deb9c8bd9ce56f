"""The column-by-column apply path leaves users as the row-by-row path does.

A tenant with a user limit has every chunk applied row by row, since the
limit is counted between rows; a limit far above the file changes nothing
else. So the same files imported into two tenants, with and without such a
limit, must give the same users and the same job counts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from maizeplus.tenants.service import TenantOptions
from tests.imports.helpers import import_file
from tests.support import is_postgres, make_tenant

HEADER = (
    "email;cid;first_name;last_name;enabled;language_id;country_id;"
    "business_unit_code;business_unit_name;organizational_unit_code;"
    "organizational_unit_name;parent_organizational_unit_code"
)
COUNTS = ("created", "updated", "unchanged", "failed", "created_disabled")


def staff_file(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


FIRST = [
    "anna@example.com;A1;Anna;Verdi;true;it;IT;BU1;Sales;OU1;Milan;",
    "bruno@example.com;A2;Bruno;Neri;;en;;BU1;Sales;OU2;Rome;OU1",
    "carla@example.com;;Carla;Rossi;false;;DE;BU2;Ops;OU2;Rome;OU1",
    "dario@example.com;A4;Dario;Bianchi;TRUE;fr;fr;BU2;Operations;OU1;Milan;",
]
# Unchanged rows, a rename, a cleared language, an empty enabled cell on a
# disabled user, a moved unit, a new user and a renamed business unit.
SECOND = [
    "anna@example.com;A1;Anna;Verdi;true;it;IT;BU1;Sales;OU1;Milan;",
    "bruno@example.com;A2;Bruno;Nero;;;;BU1;Sales;OU2;Rome;OU1",
    "carla@example.com;;Carla;Rossi;;;DE;BU2;Operations;OU1;Milan;",
    "dario@example.com;A4;Dario;Bianchi;false;fr;FR;BU2;Operations;OU1;Milan;",
    "elena@example.com;A5;Elena;Galli;;de;AT;BU3;Legal;OU3;Turin;OU1",
]
# Only the required columns and enabled: the cid, language, country and
# parent columns are absent, so they keep their values.
THIRD_HEADER = (
    "email;first_name;last_name;enabled;business_unit_code;business_unit_name;"
    "organizational_unit_code;organizational_unit_name"
)
THIRD = [
    "anna@example.com;Anna;Verdi-Rossi;false;BU1;Sales;OU1;Milan",
    "bruno@example.com;Bruno;Nero;;BU1;Sales;OU2;Rome",
    "elena@example.com;Elena;Galli;true;BU3;Legal;OU3;Turin",
]


def users_of(database_url: str, tenant_id: int) -> list[tuple[Any, ...]]:
    url = database_url
    if is_postgres(url):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT u.email, u.cid, u.first_name, u.last_name, u.enabled, "
                "u.language_code, u.country_code, b.code, b.name, o.code, o.name "
                "FROM users u "
                "LEFT JOIN business_units b "
                "ON b.tenant_id = u.tenant_id AND b.id = u.business_unit_id "
                "LEFT JOIN organizational_units o "
                "ON o.tenant_id = u.tenant_id AND o.id = u.organizational_unit_id "
                "WHERE u.tenant_id = :tenant ORDER BY u.email"
            ),
            {"tenant": tenant_id},
        )
        users = [tuple(row) for row in rows]
    engine.dispose()
    return [(*user[:4], bool(user[4]), *user[5:]) for user in users]


def test_both_apply_paths_agree(
    api: httpx.Client, database_url: str, tmp_path: Path
) -> None:
    options = {
        "external_ids": False,
        "business_units": True,
        "organizational_units": True,
        "language_code": "it",
    }
    plain = make_tenant(database_url, options=TenantOptions(**options))
    limited = make_tenant(
        database_url, options=TenantOptions(user_limit=1_000, **options)
    )
    files = [
        staff_file(tmp_path / "first.csv", FIRST),
        staff_file(tmp_path / "second.csv", SECOND),
        tmp_path / "third.csv",
    ]
    files[2].write_text("\n".join([THIRD_HEADER, *THIRD]) + "\n", encoding="utf-8")

    for path in files:
        jobs: list[dict[str, Any]] = []
        for tenant in (plain, limited):
            jobs.append(import_file(api, tenant, path))
        assert jobs[0]["status"] == "completed", jobs[0]
        assert jobs[1]["status"] == "completed", jobs[1]
        for count in COUNTS:
            summaries = [job["summary"][count] for job in jobs]
            assert summaries[0] == summaries[1], (path.name, count, jobs)

    plain_users = users_of(database_url, plain.tenant_id)
    assert plain_users == users_of(database_url, limited.tenant_id)
    assert len(plain_users) == 5
    assert plain_users[0] == (
        "anna@example.com",
        "A1",
        "Anna",
        "Verdi-Rossi",
        False,
        "it",
        "IT",
        "BU1",
        "Sales",
        "OU1",
        "Milan",
    )
