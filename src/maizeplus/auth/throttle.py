"""The rate limits of /api/v1 and of the OAuth endpoints, and their keys.

Every key names the tenant or the OAuth client, which belongs to exactly one
tenant, so one tenant's requests never use up another tenant's budget:

- ``/api/v1``: ``api:tenant:{tenant id}:token:{access token id}``, one budget
  per access token, ``MAIZEPLUS_RATE_LIMIT_API_PER_MINUTE`` or the tenant's
  entry in ``MAIZEPLUS_RATE_LIMIT_API_TENANT_LIMITS``;
- ``/oauth/token`` with a username (the password grant):
  ``token:client:{client_id}:user:{digest of the username}``;
- ``/oauth/token`` without one (refresh_token, client_credentials):
  ``token:client:{client_id}:address:{client address}``;
- ``/oauth/token/revoke``: ``revoke:client:{client_id}:address:{client address}``.

The three OAuth keys share ``MAIZEPLUS_RATE_LIMIT_TOKEN_PER_MINUTE``. The
client_id is the one the request names, before it is authenticated, so a
throttled request costs no password hash. Usernames are matched without regard
to case, and only a digest of them is stored, so no address reaches Redis.
"""

from __future__ import annotations

import hashlib
import logging

from fastapi import Request

from maizeplus.auth.dependencies import CurrentTenant
from maizeplus.auth.service import MAX_USERNAME_LENGTH, normalize_username
from maizeplus.kit.client_address import scope_client_address
from maizeplus.kit.rate_limit import (
    RateLimiter,
    RateLimitResult,
    TooManyAttempts,
    remember_result,
)
from maizeplus.settings import Settings

logger = logging.getLogger(__name__)

# Longer client_id values are not valid ids; cutting them keeps keys short.
MAX_KEY_CLIENT_ID_CHARS = 16


def api_limit(settings: Settings, tenant_name: str) -> int:
    """Return the per-token limit a minute on /api/v1 for the tenant."""
    return settings.rate_limit_api_tenant_limits.get(
        tenant_name, settings.rate_limit_api_per_minute
    )


def api_key(tenant_id: int, access_token_id: int) -> str:
    return f"api:tenant:{tenant_id}:token:{access_token_id}"


def token_key(
    client_id: str | None, username: str | None, client_address: str | None
) -> str:
    """Return the key of a token request: its client and username, or client address.

    NOTE: no limit spans keys, so a guesser who varies client_id or username
    gets a new budget for each value, though each request still costs an
    Argon2 check against the dummy hash.
    """
    client = (client_id or "-")[:MAX_KEY_CLIENT_ID_CHARS]
    if username:
        normalized = normalize_username(username)[:MAX_USERNAME_LENGTH]
        digest = hashlib.blake2b(normalized.encode(), digest_size=16).hexdigest()
        return f"token:client:{client}:user:{digest}"
    return f"token:client:{client}:address:{client_address or '-'}"


def revocation_key(client_id: str | None, client_address: str | None) -> str:
    client = (client_id or "-")[:MAX_KEY_CLIENT_ID_CHARS]
    return f"revoke:client:{client}:address:{client_address or '-'}"


def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


async def enforce_api_rate_limit(request: Request, tenant: CurrentTenant) -> None:
    """Count the request against its access token's budget; raise a 429 past it.

    Runs after the bearer check (FastAPI resolves ``CurrentTenant`` once per
    request), so a request without a valid token gets its 401 uncounted.
    """
    settings: Settings = request.app.state.settings
    result = await _limiter(request).hit(
        api_key(tenant.tenant_id, tenant.access_token_id),
        api_limit(settings, tenant.name),
    )
    remember_result(request.scope, result)
    if result.allowed:
        return
    if result.first_rejection:
        logger.info(
            "rate_limit.api_exceeded",
            extra={
                "tenant_id": tenant.tenant_id,
                "access_token_id": tenant.access_token_id,
                "limit": result.limit,
            },
        )
    raise TooManyAttempts(result)


async def count_oauth_request(
    request: Request, key: str, client_id: str | None
) -> RateLimitResult:
    """Count a request to an OAuth endpoint against ``key`` and return the outcome."""
    settings: Settings = request.app.state.settings
    result = await _limiter(request).hit(key, settings.rate_limit_token_per_minute)
    remember_result(request.scope, result)
    if result.first_rejection:
        logger.info(
            "rate_limit.oauth_exceeded",
            extra={
                "client_id": client_id[:MAX_KEY_CLIENT_ID_CHARS] if client_id else None,
                "path": request.url.path,
                "limit": result.limit,
            },
        )
    return result


def client_address(request: Request) -> str | None:
    return scope_client_address(request.scope)
