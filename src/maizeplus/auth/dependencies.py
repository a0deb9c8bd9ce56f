"""The bearer dependency: which tenant a request acts for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.auth.models import AccessToken
from maizeplus.auth.tokens import token_digest
from maizeplus.db.session import SessionDep, begin_read_only
from maizeplus.kit.clock import utcnow
from maizeplus.kit.errors import Unauthenticated
from maizeplus.tenants.models import Tenant


@dataclass(frozen=True)
class TenantContext:
    """The tenant that a valid access token belongs to, with its import options."""

    tenant_id: int
    name: str
    language_code: str
    user_limit: int | None
    external_ids: bool
    business_units: bool
    organizational_units: bool
    access_token_id: int


def bearer_token(request: Request) -> str | None:
    """Return the token of an ``Authorization: Bearer`` header, if there is one."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


# Declares the scheme in the OpenAPI document; the token itself is read by
# ``bearer_token`` so that every failure gets the contract's 401 body.
bearer_scheme = HTTPBearer(
    auto_error=False, description="An access token from /oauth/token"
)


async def tenant_for_access_token(
    session: AsyncSession, token: str
) -> TenantContext | None:
    """Return the tenant of a valid (known, unexpired, unrevoked) access token, or None."""
    row = (
        await session.execute(
            select(AccessToken.id, Tenant)
            .join(Tenant, Tenant.id == AccessToken.tenant_id)
            .where(
                AccessToken.digest == token_digest(token),
                AccessToken.revoked_at.is_(None),
                AccessToken.expires_at > utcnow(),
            )
        )
    ).first()
    if row is None:
        return None
    access_token_id, tenant = row
    return TenantContext(
        tenant_id=tenant.id,
        name=tenant.name,
        language_code=tenant.language_code,
        user_limit=tenant.user_limit,
        external_ids=tenant.external_ids,
        business_units=tenant.business_units,
        organizational_units=tenant.organizational_units,
        access_token_id=access_token_id,
    )


async def authenticate(
    request: Request,
    session: SessionDep,
    _credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(bearer_scheme)
    ],
) -> TenantContext:
    """Resolve the bearer token to its tenant, or raise a 401."""
    token = bearer_token(request)
    if token is None:
        raise Unauthenticated()
    await begin_read_only(session)
    context = await tenant_for_access_token(session, token)
    if context is None:
        raise Unauthenticated()
    # End the lookup's transaction before the route reads the request body,
    # which takes as long as the client needs to send an upload. An open
    # transaction would block WAL checkpoints on SQLite and keep a pooled
    # connection idle in transaction on PostgreSQL.
    await session.commit()
    return context


CurrentTenant = Annotated[TenantContext, Depends(authenticate)]
