"""Rows for the export tests, written straight to the database."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.kit.clock import utcnow
from maizeplus.kit.ids import allocate_ids
from maizeplus.tenants.models import BusinessUnit, OrganizationalUnit
from maizeplus.users.models import User
from tests.support import run_async


@dataclass(frozen=True)
class UserSpec:
    """A user to insert; unset relations stay null."""

    email: str
    first_name: str = "Anna"
    last_name: str = "Verdi"
    cid: str | None = None
    enabled: bool = True
    language_code: str | None = None
    country_code: str | None = None
    business_unit_id: int | None = None
    organizational_unit_id: int | None = None
    deactivated_at: datetime | None = None
    uuid: str = field(default_factory=lambda: str(uuid.uuid4()))


async def insert_users(
    session: AsyncSession, tenant_id: int, specs: list[UserSpec]
) -> None:
    first_id = await allocate_ids(session, tenant_id, "users", len(specs))
    now = utcnow()
    await session.execute(
        insert(User),
        [
            {
                "tenant_id": tenant_id,
                "id": first_id + offset,
                "uuid": spec.uuid,
                "email": spec.email,
                "cid": spec.cid,
                "first_name": spec.first_name,
                "last_name": spec.last_name,
                "enabled": spec.enabled,
                "language_code": spec.language_code,
                "country_code": spec.country_code,
                "business_unit_id": spec.business_unit_id,
                "organizational_unit_id": spec.organizational_unit_id,
                "deactivated_at": spec.deactivated_at,
                "created_at": now,
                "updated_at": now,
            }
            for offset, spec in enumerate(specs)
        ],
    )


def add_users(
    database_url: str, tenant_id: int, specs: list[UserSpec]
) -> list[UserSpec]:
    async def work(session: AsyncSession) -> None:
        await insert_users(session, tenant_id, specs)

    run_async(database_url, work)
    return specs


def numbered_users(count: int, prefix: str = "user") -> list[UserSpec]:
    return [
        UserSpec(email=f"{prefix}{number:03}@example.com") for number in range(count)
    ]


def add_units(
    database_url: str,
    tenant_id: int,
    *,
    business_unit: tuple[str, str],
    organizational_unit: tuple[str, str],
) -> tuple[int, int]:
    """Insert one business unit and one organizational unit; return their ids."""

    async def work(session: AsyncSession) -> tuple[int, int]:
        business_id = await allocate_ids(session, tenant_id, "business_units", 1)
        unit_id = await allocate_ids(session, tenant_id, "organizational_units", 1)
        session.add(
            BusinessUnit(
                tenant_id=tenant_id,
                id=business_id,
                code=business_unit[0],
                name=business_unit[1],
            )
        )
        session.add(
            OrganizationalUnit(
                tenant_id=tenant_id,
                id=unit_id,
                code=organizational_unit[0],
                name=organizational_unit[1],
                parent_id=None,
            )
        )
        await session.flush()
        return business_id, unit_id

    return run_async(database_url, work)
