"""Queries of the users export."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.db.base import table_of
from maizeplus.kit.listing_index import Listing, PageStart, page_ids
from maizeplus.reference.models import Country, Language
from maizeplus.tenants.models import BusinessUnit, OrganizationalUnit
from maizeplus.users.models import User

AnySelect = Select[*tuple[Any, ...]]


@dataclass(frozen=True)
class UserRelations:
    """The relations that a page of users is joined with."""

    language: bool = False
    country: bool = False
    organizational_unit: bool = False
    business_unit: bool = False


@dataclass(frozen=True)
class ExportedUser:
    """One user of the export with the codes and names of its joined relations.

    A relation that was not joined, or that the user lacks, has ``None`` code and
    name.
    """

    uuid: str
    cid: str | None
    first_name: str
    last_name: str
    email: str
    enabled: bool
    language_code: str | None = None
    language_name: str | None = None
    country_code: str | None = None
    country_name: str | None = None
    organizational_unit_code: str | None = None
    organizational_unit_name: str | None = None
    business_unit_code: str | None = None
    business_unit_name: str | None = None


def _is_active(tenant_id: int) -> ColumnElement[bool]:
    # Matches the predicate of the partial index ix_users_tenant_id_id_active.
    return and_(User.tenant_id == tenant_id, User.deactivated_at.is_(None))


async def count_active_users(session: AsyncSession, tenant_id: int) -> int:
    """Count the tenant's users that are not deactivated."""
    statement = select(func.count()).select_from(User).where(_is_active(tenant_id))
    return int((await session.execute(statement)).scalar_one())


def active_users(tenant_id: int) -> Listing:
    """The tenant's users that are not deactivated, as the users export lists them."""
    return Listing(
        name="users",
        tenant_id=tenant_id,
        tables=(table_of(User),),
        ids=select(User.id).where(_is_active(tenant_id)),
        id_column=User.id,
    )


def _join_relations(
    statement: AnySelect, relations: UserRelations, tenant_language: str
) -> AnySelect:
    if relations.language:
        language_code = func.coalesce(User.language_code, literal(tenant_language))
        statement = statement.outerjoin(Language, Language.code == language_code)
        statement = statement.add_columns(
            Language.code.label("language_code"), Language.name.label("language_name")
        )
    if relations.country:
        statement = statement.outerjoin(Country, Country.code == User.country_code)
        statement = statement.add_columns(
            Country.code.label("country_code"), Country.name.label("country_name")
        )
    if relations.organizational_unit:
        statement = statement.outerjoin(
            OrganizationalUnit,
            and_(
                OrganizationalUnit.tenant_id == User.tenant_id,
                OrganizationalUnit.id == User.organizational_unit_id,
            ),
        )
        statement = statement.add_columns(
            OrganizationalUnit.code.label("organizational_unit_code"),
            OrganizationalUnit.name.label("organizational_unit_name"),
        )
    if relations.business_unit:
        statement = statement.outerjoin(
            BusinessUnit,
            and_(
                BusinessUnit.tenant_id == User.tenant_id,
                BusinessUnit.id == User.business_unit_id,
            ),
        )
        statement = statement.add_columns(
            BusinessUnit.code.label("business_unit_code"),
            BusinessUnit.name.label("business_unit_name"),
        )
    return statement


async def active_users_page(
    session: AsyncSession,
    listing: Listing,
    start: PageStart,
    *,
    relations: UserRelations,
    tenant_language: str,
) -> list[ExportedUser]:
    """Return one page of the tenant's active users in key order, with relations.

    The page's ids come first from the partial index on ``(tenant_id, id)``,
    from the page's anchor on, and only those rows are read and joined.
    A user without a language is joined with ``tenant_language``.
    """
    tenant_id = listing.tenant_id
    ids = page_ids(listing, start).subquery("page_ids")
    columns: list[Any] = [
        User.uuid,
        User.cid,
        User.first_name,
        User.last_name,
        User.email,
        User.enabled,
    ]
    statement = select(*columns).join_from(
        ids, User, and_(User.tenant_id == tenant_id, User.id == ids.c.id)
    )
    statement = _join_relations(statement, relations, tenant_language)
    rows = await session.execute(statement.order_by(User.id))
    return [ExportedUser(**row._asdict()) for row in rows]
