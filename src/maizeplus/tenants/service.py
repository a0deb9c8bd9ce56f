"""Creating and finding tenants."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.kit.clock import utcnow
from maizeplus.reference.models import Language
from maizeplus.tenants.errors import (
    TenantAlreadyExists,
    TenantNotFound,
    UnknownLanguage,
)
from maizeplus.tenants.models import ReportReceiver, Tenant


@dataclass(frozen=True)
class TenantOptions:
    """The options that shape a tenant's imports."""

    user_limit: int | None = None
    external_ids: bool = False
    business_units: bool = False
    organizational_units: bool = False
    language_code: str = "en"


async def find_tenant(session: AsyncSession, name: str) -> Tenant | None:
    return (
        await session.execute(select(Tenant).where(Tenant.name == name))
    ).scalar_one_or_none()


async def list_tenants(session: AsyncSession) -> list[Tenant]:
    """Return every tenant, ordered by id."""
    return list((await session.execute(select(Tenant).order_by(Tenant.id))).scalars())


async def get_tenant(session: AsyncSession, name: str) -> Tenant:
    """Return the tenant of this name, or raise ``TenantNotFound``."""
    tenant = await find_tenant(session, name)
    if tenant is None:
        raise TenantNotFound(name)
    return tenant


async def _check_language(session: AsyncSession, code: str) -> str:
    code = code.strip().lower()
    if await session.get(Language, code) is None:
        raise UnknownLanguage(code)
    return code


async def create_tenant(
    session: AsyncSession,
    name: str,
    options: TenantOptions,
    report_receivers: Iterable[str] = (),
) -> Tenant:
    """Add a tenant with its options and report receivers."""
    if await find_tenant(session, name) is not None:
        raise TenantAlreadyExists(name)
    tenant = Tenant(
        name=name,
        language_code=await _check_language(session, options.language_code),
        user_limit=options.user_limit,
        external_ids=options.external_ids,
        business_units=options.business_units,
        organizational_units=options.organizational_units,
        created_at=utcnow(),
    )
    session.add(tenant)
    await session.flush()
    await set_report_receivers(session, tenant, report_receivers)
    return tenant


async def update_tenant(
    session: AsyncSession, tenant: Tenant, options: TenantOptions
) -> Tenant:
    """Change a tenant's options."""
    tenant.language_code = await _check_language(session, options.language_code)
    tenant.user_limit = options.user_limit
    tenant.external_ids = options.external_ids
    tenant.business_units = options.business_units
    tenant.organizational_units = options.organizational_units
    await session.flush()
    return tenant


async def set_report_receivers(
    session: AsyncSession, tenant: Tenant, emails: Iterable[str]
) -> list[str]:
    """Replace the addresses that get the tenant's import reports."""
    wanted = sorted({email.strip().lower() for email in emails if email.strip()})
    existing = (
        await session.execute(
            select(ReportReceiver).where(ReportReceiver.tenant_id == tenant.id)
        )
    ).scalars()
    for receiver in existing:
        await session.delete(receiver)
    await session.flush()
    session.add_all(
        ReportReceiver(tenant_id=tenant.id, email=email) for email in wanted
    )
    await session.flush()
    return wanted


async def report_receivers(session: AsyncSession, tenant_id: int) -> list[str]:
    rows = await session.execute(
        select(ReportReceiver.email)
        .where(ReportReceiver.tenant_id == tenant_id)
        .order_by(ReportReceiver.email)
    )
    return list(rows.scalars())
