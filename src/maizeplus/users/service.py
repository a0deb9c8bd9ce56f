"""Rules of the users export: which relations a request includes, and the page."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.kit.errors import DomainError
from maizeplus.kit.listing_index import ListingIndexCache, PageStart, read_seek_page
from maizeplus.kit.pagination import PageRequest, PageResult
from maizeplus.users import repository
from maizeplus.users.repository import ExportedUser, UserRelations


class UserInclude(enum.StrEnum):
    """A relation that ``include`` may name, spelled as the original API spells it."""

    LANGUAGE = "language"
    COUNTRY = "country"
    ORGANIZATIONAL_UNIT = "organizationalUnit"
    BUSINESS_UNIT = "organizationalUnit.businessUnit"


ALLOWED_INCLUDES = ", ".join(include.value for include in UserInclude)


class IncludeNotAllowedError(DomainError):
    """``include`` names a relation that the users export does not have."""

    status_code = 400

    def __init__(self, unknown: list[str]) -> None:
        super().__init__(
            f"Requested include(s) `{', '.join(unknown)}` are not allowed. "
            f"Allowed include(s) are `{ALLOWED_INCLUDES}`."
        )


def parse_includes(raw: str | None) -> frozenset[UserInclude]:
    """Parse a comma-separated ``include`` value; empty names are skipped.

    Names are case-sensitive, as in the original service. The business unit
    implies the organizational unit, which it is nested in.
    """
    if raw is None:
        return frozenset()
    names = [name.strip() for name in raw.split(",") if name.strip()]
    allowed = {include.value for include in UserInclude}
    unknown = list(dict.fromkeys(name for name in names if name not in allowed))
    if unknown:
        raise IncludeNotAllowedError(unknown)
    includes = {UserInclude(name) for name in names}
    if UserInclude.BUSINESS_UNIT in includes:
        includes.add(UserInclude.ORGANIZATIONAL_UNIT)
    return frozenset(includes)


@dataclass(frozen=True)
class UsersExport:
    """One page of exported users and the relations that were included."""

    page: PageResult[ExportedUser]
    includes: frozenset[UserInclude]


async def export_users(
    session: AsyncSession,
    *,
    tenant_id: int,
    tenant_language: str,
    page: PageRequest,
    indexes: ListingIndexCache,
    include: str | None,
) -> UsersExport:
    """Read one page of the tenant's users, leaving out deactivated ones.

    Raises ``IncludeNotAllowedError`` (400) for an unknown ``include`` name.
    """
    includes = parse_includes(include)
    relations = UserRelations(
        language=UserInclude.LANGUAGE in includes,
        country=UserInclude.COUNTRY in includes,
        organizational_unit=UserInclude.ORGANIZATIONAL_UNIT in includes,
        business_unit=UserInclude.BUSINESS_UNIT in includes,
    )

    listing = repository.active_users(tenant_id)

    async def read(start: PageStart) -> list[ExportedUser]:
        return await repository.active_users_page(
            session,
            listing,
            start,
            relations=relations,
            tenant_language=tenant_language,
        )

    result = await read_seek_page(session, indexes, listing, page, read)
    return UsersExport(page=result, includes=includes)
