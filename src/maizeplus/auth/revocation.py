"""Revoking access and refresh tokens: by family, by value (RFC 7009) and in bulk."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.auth.clients import authenticate_client
from maizeplus.auth.errors import InvalidRequestError
from maizeplus.auth.models import AccessToken, OAuthClient, RefreshToken
from maizeplus.auth.service import get_account, get_client
from maizeplus.auth.tokens import token_digest
from maizeplus.kit.clock import utcnow
from maizeplus.tenants.service import get_tenant

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RevokedCounts:
    """How many tokens of each kind a revocation changed from valid to revoked."""

    access_tokens: int
    refresh_tokens: int


def _rowcount(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


async def revoke_family(
    session: AsyncSession, tenant_id: int, family_id: str
) -> RevokedCounts:
    """Revoke every refresh token of a family and the access tokens issued with them.

    A rotation that runs at the same time holds the lock of the family's
    current refresh token. On PostgreSQL the first UPDATE waits for it and so
    misses the pair that the rotation inserts. The later statements revoke
    that pair, because each statement reads what was committed before it started. A rotation
    that starts later waits for this transaction and is then rejected as a
    reuse.
    """
    now = utcnow()

    async def revoke_refresh_tokens() -> int:
        result = await session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.tenant_id == tenant_id,
                RefreshToken.family_id == family_id,
                RefreshToken.revoked_at.is_(None),
            )
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result)

    refresh_count = await revoke_refresh_tokens()
    family_access_ids = select(RefreshToken.access_token_id).where(
        RefreshToken.tenant_id == tenant_id, RefreshToken.family_id == family_id
    )
    access = await session.execute(
        update(AccessToken)
        .where(
            AccessToken.tenant_id == tenant_id,
            AccessToken.id.in_(family_access_ids),
            AccessToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    refresh_count += await revoke_refresh_tokens()
    return RevokedCounts(_rowcount(access), refresh_count)


async def revoke_client_token(
    session: AsyncSession,
    client_id: str | None,
    client_secret: str | None,
    token: str | None,
) -> None:
    """Authenticate the client and revoke one of its tokens (RFC 7009 section 2.1)."""
    client = await authenticate_client(session, client_id, client_secret)
    if token is None:
        raise InvalidRequestError.missing("token")
    await revoke_token(session, client, token)


async def revoke_token(session: AsyncSession, client: OAuthClient, token: str) -> bool:
    """Revoke a token that was issued to ``client``; return whether one was found.

    Revoking either token of a pair revokes its whole family, as RFC 7009
    section 2.1 allows. Access tokens without a refresh token (client
    credentials) are revoked alone. A token that is unknown, or was issued to
    another client, is left as it is. The caller returns 200 in every case, so
    a client cannot probe for other clients' tokens.

    The optional ``token_type_hint`` of RFC 7009 is not needed: both kinds are
    looked up by their unique digest.
    """
    digest = token_digest(token)
    refresh_row = (
        await session.execute(
            select(
                RefreshToken.tenant_id, RefreshToken.family_id, AccessToken.client_id
            )
            .join(AccessToken, AccessToken.id == RefreshToken.access_token_id)
            .where(RefreshToken.digest == digest)
        )
    ).first()
    if refresh_row is not None:
        tenant_id, family_id, owner_client_id = refresh_row
        if owner_client_id != client.id:
            return False
        revoked = await revoke_family(session, tenant_id, family_id)
        _log_revoked(client, "refresh_token", revoked)
        return True

    access = (
        await session.execute(select(AccessToken).where(AccessToken.digest == digest))
    ).scalar_one_or_none()
    if access is None or access.client_id != client.id:
        return False
    access_family_id = (
        await session.execute(
            select(RefreshToken.family_id).where(
                RefreshToken.tenant_id == access.tenant_id,
                RefreshToken.access_token_id == access.id,
            )
        )
    ).scalar()
    if access_family_id is not None:
        revoked = await revoke_family(session, access.tenant_id, access_family_id)
    else:
        result = await session.execute(
            update(AccessToken)
            .where(AccessToken.id == access.id, AccessToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        revoked = RevokedCounts(_rowcount(result), 0)
    _log_revoked(client, "access_token", revoked)
    return True


def _log_revoked(client: OAuthClient, token_type: str, revoked: RevokedCounts) -> None:
    logger.info(
        "oauth.token_revoked",
        extra={
            "tenant_id": client.tenant_id,
            "client_id": client.id,
            "token_type": token_type,
            "revoked_access_tokens": revoked.access_tokens,
            "revoked_refresh_tokens": revoked.refresh_tokens,
        },
    )


async def revoke_tenant_tokens(
    session: AsyncSession,
    tenant_id: int,
    client_id: int | None = None,
    account_id: int | None = None,
) -> RevokedCounts:
    """Revoke every valid token of a tenant, or only those of one client or account."""
    now = utcnow()
    criteria = [AccessToken.tenant_id == tenant_id]
    if client_id is not None:
        criteria.append(AccessToken.client_id == client_id)
    if account_id is not None:
        criteria.append(AccessToken.account_id == account_id)

    matching_access_ids = select(AccessToken.id).where(*criteria)

    async def revoke_refresh_tokens() -> int:
        result = await session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.tenant_id == tenant_id,
                RefreshToken.access_token_id.in_(matching_access_ids),
                RefreshToken.revoked_at.is_(None),
            )
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result)

    # Refresh tokens twice, around the access tokens, for the reason that
    # revoke_family gives: a rotation under way may insert a pair meanwhile.
    refresh_count = await revoke_refresh_tokens()
    access = await session.execute(
        update(AccessToken)
        .where(*criteria, AccessToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    refresh_count += await revoke_refresh_tokens()
    revoked = RevokedCounts(_rowcount(access), refresh_count)
    logger.info(
        "oauth.tokens_revoked",
        extra={
            "tenant_id": tenant_id,
            "client_id": client_id,
            "account_id": account_id,
            "revoked_access_tokens": revoked.access_tokens,
            "revoked_refresh_tokens": revoked.refresh_tokens,
        },
    )
    return revoked


async def revoke_tokens_by_operator(
    session: AsyncSession,
    tenant_name: str,
    client_id: int | None = None,
    username: str | None = None,
) -> RevokedCounts:
    """Revoke the valid tokens of a tenant, or of one of its clients or accounts.

    Raises ``TenantNotFound``, ``ClientNotFound`` or ``AccountNotFound`` when a
    name or id does not exist in the tenant.
    """
    tenant = await get_tenant(session, tenant_name)
    if client_id is not None:
        await get_client(session, tenant.id, client_id)
    account_id = None
    if username is not None:
        account_id = (await get_account(session, tenant.id, username)).id
    return await revoke_tenant_tokens(session, tenant.id, client_id, account_id)
