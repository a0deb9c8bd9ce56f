"""Creating, refreshing and keeping the demo tenant, and issuing its credentials."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.auth.models import OAuthClient
from maizeplus.auth.service import (
    create_account,
    create_client,
    find_account,
    generate_password,
    set_account_password,
)
from maizeplus.catalog.models import (
    Certification,
    CertificationProgress,
    Course,
    CourseProgress,
    Topic,
)
from maizeplus.demo.data import DemoRows, generate_demo_rows
from maizeplus.kit.clock import utcnow
from maizeplus.kit.ids import allocate_ids
from maizeplus.tenants.models import BusinessUnit, OrganizationalUnit, Tenant
from maizeplus.tenants.service import TenantOptions, create_tenant, find_tenant
from maizeplus.users.models import User
from maizeplus.users.repository import count_active_users

logger = logging.getLogger(__name__)

TENANT_NAME = "demo"
USERNAME = "api@demo.example.com"
REPORT_RECEIVER = "hr@demo.example.com"
CLIENT_NAME = "demo"
DEFAULT_USERS = 200
TENANT_OPTIONS = TenantOptions(
    language_code="it", business_units=True, organizational_units=True
)


@dataclass(frozen=True)
class DemoResult:
    """The demo tenant after a run, with credentials that are shown only once."""

    tenant_id: int
    data_created: bool
    users: int
    client_id: int
    client_secret: str
    username: str
    password: str


async def _insert_rows(
    session: AsyncSession, model: type[Any], rows: Sequence[dict[str, Any]]
) -> None:
    """Insert rows with one executemany.

    It inserts into the table, not the ORM class. The ORM's bulk insert sent
    171 INSERT statements for 300 demo users (SQLAlchemy 2.1, SQLite).
    """
    await session.execute(insert(model.__table__), list(rows))


async def _insert_with_ids(
    session: AsyncSession,
    model: type[Any],
    tenant_id: int,
    rows: Sequence[dict[str, Any]],
) -> list[int]:
    """Insert rows with freshly allocated ids; return the ids in row order."""
    if not rows:
        return []
    first_id = await allocate_ids(session, tenant_id, model.__tablename__, len(rows))
    ids = list(range(first_id, first_id + len(rows)))
    await _insert_rows(
        session,
        model,
        [
            {"tenant_id": tenant_id, "id": row_id, **row}
            for row_id, row in zip(ids, rows, strict=True)
        ],
    )
    return ids


def _pick(ids: list[int], index: int | None) -> int | None:
    return None if index is None else ids[index]


async def _insert_units(
    session: AsyncSession, tenant_id: int, rows: DemoRows
) -> tuple[list[int], list[int]]:
    business_ids = await _insert_with_ids(
        session, BusinessUnit, tenant_id, rows.business_units
    )
    first_id = await allocate_ids(
        session,
        tenant_id,
        OrganizationalUnit.__tablename__,
        len(rows.organizational_units),
    )
    unit_ids = {
        unit["code"]: first_id + offset
        for offset, unit in enumerate(rows.organizational_units)
    }
    # Parents come first in the list, so each row's parent exists when it is
    # inserted (SQLite checks the key on every row of an executemany).
    await _insert_rows(
        session,
        OrganizationalUnit,
        [
            {
                "tenant_id": tenant_id,
                "id": unit_ids[unit["code"]],
                "code": unit["code"],
                "name": unit["name"],
                "parent_id": unit_ids[unit["parent_code"]]
                if unit["parent_code"]
                else None,
            }
            for unit in rows.organizational_units
        ],
    )
    return business_ids, list(unit_ids.values())


async def _insert_demo_rows(
    session: AsyncSession, tenant_id: int, rows: DemoRows
) -> None:
    business_ids, unit_ids = await _insert_units(session, tenant_id, rows)
    topic_ids = await _insert_with_ids(session, Topic, tenant_id, rows.topics)
    course_ids = await _insert_with_ids(
        session,
        Course,
        tenant_id,
        [
            {
                **{k: v for k, v in course.items() if k != "topic_index"},
                "topic_id": topic_ids[course["topic_index"]],
            }
            for course in rows.courses
        ],
    )
    certification_ids = await _insert_with_ids(
        session, Certification, tenant_id, rows.certifications
    )

    now = utcnow()
    user_ids = await _insert_with_ids(
        session,
        User,
        tenant_id,
        [
            {
                **{k: v for k, v in user.items() if not k.endswith("_index")},
                "business_unit_id": _pick(business_ids, user["business_unit_index"]),
                "organizational_unit_id": _pick(
                    unit_ids, user["organizational_unit_index"]
                ),
                "deactivated_at": None,
                "created_at": now,
                "updated_at": now,
            }
            for user in rows.users
        ],
    )
    await _insert_with_ids(
        session,
        CourseProgress,
        tenant_id,
        [
            {
                **{k: v for k, v in item.items() if not k.endswith("_index")},
                "user_id": user_ids[item["user_index"]],
                "course_id": course_ids[item["course_index"]],
            }
            for item in rows.course_progress
        ],
    )
    await _insert_with_ids(
        session,
        CertificationProgress,
        tenant_id,
        [
            {
                **{k: v for k, v in item.items() if not k.endswith("_index")},
                "user_id": user_ids[item["user_index"]],
                "certification_id": certification_ids[item["certification_index"]],
            }
            for item in rows.certification_progress
        ],
    )


async def _issue_credentials(
    session: AsyncSession, tenant: Tenant
) -> tuple[int, str, str]:
    """Replace the demo client (revoking its tokens) and set a new account password."""
    await session.execute(
        delete(OAuthClient).where(
            OAuthClient.tenant_id == tenant.id, OAuthClient.name == CLIENT_NAME
        )
    )
    client = await create_client(session, tenant, name=CLIENT_NAME)
    password = generate_password()
    account = await find_account(session, tenant.id, USERNAME)
    if account is None:
        await create_account(session, tenant, USERNAME, password)
    else:
        await set_account_password(session, account, password)
    return client.client_id, client.client_secret, password


async def seed_demo(
    session: AsyncSession, *, users: int, if_missing: bool
) -> DemoResult:
    """Create or refresh the demo tenant, then issue a new client secret and password.

    An existing demo tenant is deleted with all its rows and created again,
    unless ``if_missing`` is set, which keeps it and its data as they are.
    """
    tenant = await find_tenant(session, TENANT_NAME)
    if tenant is not None and not if_missing:
        # Every tenant-owned table cascades from the tenant row.
        await session.execute(delete(Tenant).where(Tenant.id == tenant.id))
        session.expunge_all()
        logger.info("demo.deleted", extra={"tenant_id": tenant.id})
        tenant = None

    data_created = tenant is None
    if tenant is None:
        tenant = await create_tenant(
            session, TENANT_NAME, TENANT_OPTIONS, [REPORT_RECEIVER]
        )
        rows = generate_demo_rows(users, utcnow())
        await _insert_demo_rows(session, tenant.id, rows)
        logger.info(
            "demo.created",
            extra={
                "tenant_id": tenant.id,
                "users": len(rows.users),
                "course_progress": len(rows.course_progress),
                "certification_progress": len(rows.certification_progress),
            },
        )
    else:
        logger.info("demo.kept", extra={"tenant_id": tenant.id})

    client_id, client_secret, password = await _issue_credentials(session, tenant)
    await session.flush()
    return DemoResult(
        tenant_id=tenant.id,
        data_created=data_created,
        users=await count_active_users(session, tenant.id),
        client_id=client_id,
        client_secret=client_secret,
        username=USERNAME,
        password=password,
    )
