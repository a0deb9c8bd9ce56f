"""The token endpoint's grants: password, refresh_token and client_credentials.

Every function here raises an ``OAuthError`` for a request that must be
rejected. Writes made before such an error (a failure count, a revoked token
family) are meant to persist, so the caller commits the session on an
``OAuthError`` as well as on success.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NoReturn, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.auth.clients import authenticate_client
from maizeplus.auth.errors import (
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuthError,
    UnsupportedGrantTypeError,
)
from maizeplus.auth.login import LockoutPolicy, verify_account_password
from maizeplus.auth.models import AccessToken, OAuthClient, RefreshToken
from maizeplus.auth.revocation import revoke_family
from maizeplus.auth.tokens import new_token, token_digest
from maizeplus.kit.clock import utcnow
from maizeplus.settings import Settings

logger = logging.getLogger(__name__)

ALL_SCOPES = "*"


@dataclass(frozen=True)
class TokenPolicy:
    """Token lifetimes in seconds and the lockout of the password grant."""

    access_token_ttl_seconds: int
    refresh_token_ttl_seconds: int
    lockout: LockoutPolicy

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenPolicy:
        return cls(
            access_token_ttl_seconds=settings.access_token_ttl_seconds,
            refresh_token_ttl_seconds=settings.refresh_token_ttl_seconds,
            lockout=LockoutPolicy(
                max_failures=settings.login_max_failures,
                lockout_seconds=settings.login_lockout_seconds,
            ),
        )


@dataclass(frozen=True)
class TokenRequest:
    """The parameters of a token request; an omitted or empty parameter is None."""

    grant_type: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    username: str | None = None
    password: str | None = None
    refresh_token: str | None = None
    scope: str | None = None


@dataclass(frozen=True)
class IssuedTokens:
    """A new access token, its lifetime in seconds, and its refresh token if any."""

    access_token: str
    expires_in: int
    refresh_token: str | None


Grant = Callable[
    [AsyncSession, OAuthClient, TokenRequest, TokenPolicy], Awaitable[IssuedTokens]
]


async def issue_tokens(
    session: AsyncSession, request: TokenRequest, policy: TokenPolicy
) -> IssuedTokens:
    """Authenticate the client, run the requested grant and store the new tokens."""
    if request.grant_type is None:
        raise InvalidRequestError.missing("grant_type")
    grant = GRANTS.get(request.grant_type)
    if grant is None:
        raise UnsupportedGrantTypeError()
    client = await authenticate_client(
        session, request.client_id, request.client_secret
    )
    fields = {
        "tenant_id": client.tenant_id,
        "client_id": client.id,
        "grant_type": request.grant_type,
    }
    try:
        tokens = await grant(session, client, request, policy)
    except OAuthError as error:
        logger.info("oauth.token_rejected", extra={**fields, "error": error.error_code})
        raise
    logger.info("oauth.token_issued", extra=fields)
    return tokens


def granted_scopes(requested: str | None) -> str:
    """Return the scopes to store for a requested, space-separated scope list.

    The API defines no named scopes yet, so ``*`` (every scope) is the only
    valid name. An omitted or empty scope also means every scope.
    """
    for name in (requested or "").split(" "):
        if name not in ("", ALL_SCOPES):
            raise InvalidScopeError(name)
    return ALL_SCOPES


async def password_grant(
    session: AsyncSession,
    client: OAuthClient,
    request: TokenRequest,
    policy: TokenPolicy,
) -> IssuedTokens:
    """Issue tokens for an API account of the client's tenant (RFC 6749 section 4.3)."""
    if request.username is None:
        raise InvalidRequestError.missing("username")
    if request.password is None:
        raise InvalidRequestError.missing("password")
    scopes = granted_scopes(request.scope)
    # The account is looked up inside the client's tenant only, so a client can
    # never sign in an account of another tenant.
    account = await verify_account_password(
        session, client.tenant_id, request.username, request.password, policy.lockout
    )
    return await _store_tokens(
        session, client, account.id, scopes, policy, family_id=str(uuid.uuid4())
    )


async def client_credentials_grant(
    session: AsyncSession,
    client: OAuthClient,
    request: TokenRequest,
    policy: TokenPolicy,
) -> IssuedTokens:
    """Issue a tenant token with no user and no refresh token (RFC 6749 section 4.4)."""
    scopes = granted_scopes(request.scope)
    return await _store_tokens(session, client, None, scopes, policy, family_id=None)


async def refresh_token_grant(
    session: AsyncSession,
    client: OAuthClient,
    request: TokenRequest,
    policy: TokenPolicy,
) -> IssuedTokens:
    """Rotate a refresh token into a new token pair (RFC 6749 section 6).

    The presented refresh token and its access token are revoked. A refresh
    token that is presented again after it was revoked is taken as stolen, so
    the whole family (every token rotated from the same login) is revoked.
    That also ends the newest pair, whether the client or a thief holds it.
    """
    if request.refresh_token is None:
        raise InvalidRequestError.missing("refresh_token")
    row = (
        await session.execute(
            select(RefreshToken, AccessToken.client_id, AccessToken.account_id)
            .join(AccessToken, AccessToken.id == RefreshToken.access_token_id)
            .where(RefreshToken.digest == token_digest(request.refresh_token))
        )
    ).first()
    if row is None:
        raise InvalidGrantError.refresh_token("Token is unknown")
    refresh, owner_client_id, account_id = row
    if owner_client_id != client.id:
        raise InvalidGrantError.refresh_token("Token is not linked to client")

    now = utcnow()
    if refresh.revoked_at is not None:
        await _reject_reuse(session, refresh)
    if refresh.expires_at <= now:
        raise InvalidGrantError.refresh_token("Token has expired")
    # Only ``*`` is ever granted, so any valid request stays within the original scope.
    scopes = granted_scopes(request.scope)

    # The WHERE clause makes the rotation atomic: of two requests that present
    # the same token at once, only one revokes it and the other is a replay.
    rotated = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == refresh.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], rotated).rowcount != 1:
        await _reject_reuse(session, refresh)
    await session.execute(
        update(AccessToken)
        .where(
            AccessToken.id == refresh.access_token_id, AccessToken.revoked_at.is_(None)
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return await _store_tokens(
        session, client, account_id, scopes, policy, family_id=refresh.family_id
    )


async def _reject_reuse(session: AsyncSession, refresh: RefreshToken) -> NoReturn:
    revoked = await revoke_family(session, refresh.tenant_id, refresh.family_id)
    logger.warning(
        "oauth.refresh_token_reused",
        extra={
            "tenant_id": refresh.tenant_id,
            "family_id": refresh.family_id,
            "refresh_token_id": refresh.id,
            "revoked_access_tokens": revoked.access_tokens,
            "revoked_refresh_tokens": revoked.refresh_tokens,
        },
    )
    raise InvalidGrantError.refresh_token("Token has been revoked")


async def _store_tokens(
    session: AsyncSession,
    client: OAuthClient,
    account_id: int | None,
    scopes: str,
    policy: TokenPolicy,
    family_id: str | None,
) -> IssuedTokens:
    """Insert an access token, and a refresh token too when ``family_id`` is given."""
    now = utcnow()
    access_value = new_token()
    access = AccessToken(
        tenant_id=client.tenant_id,
        client_id=client.id,
        account_id=account_id,
        digest=token_digest(access_value),
        scopes=scopes,
        expires_at=now + timedelta(seconds=policy.access_token_ttl_seconds),
        created_at=now,
    )
    session.add(access)
    await session.flush()
    if family_id is None:
        return IssuedTokens(access_value, policy.access_token_ttl_seconds, None)

    # NOTE: every rotation gets the full refresh lifetime again, so a family
    # that is refreshed in time never expires; only revocation ends it.
    refresh_value = new_token()
    session.add(
        RefreshToken(
            tenant_id=client.tenant_id,
            access_token_id=access.id,
            family_id=family_id,
            digest=token_digest(refresh_value),
            expires_at=now + timedelta(seconds=policy.refresh_token_ttl_seconds),
            created_at=now,
        )
    )
    await session.flush()
    return IssuedTokens(access_value, policy.access_token_ttl_seconds, refresh_value)


GRANTS: dict[str, Grant] = {
    "password": password_grant,
    "refresh_token": refresh_token_grant,
    "client_credentials": client_credentials_grant,
}
