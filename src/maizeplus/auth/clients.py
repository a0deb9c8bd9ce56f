"""Authentication of OAuth clients by their id and secret (RFC 6749 section 2.3)."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.auth.errors import InvalidClientError
from maizeplus.auth.models import OAuthClient
from maizeplus.auth.passwords import dummy_hash, verify_secret

logger = logging.getLogger(__name__)

# OAuthClient.id is a 32-bit INTEGER; a larger id would overflow on PostgreSQL.
MAX_CLIENT_ID = 2**31 - 1
MISSING_CLIENT_HINT = (
    "Send client_id and client_secret in the request body or in an "
    "Authorization: Basic header"
)


async def authenticate_client(
    session: AsyncSession, client_id: str | None, client_secret: str | None
) -> OAuthClient:
    """Return the client with this id and secret, or raise ``InvalidClientError``.

    ``client_id`` must be the decimal id of a client that is not revoked. One
    Argon2 verification runs whenever a client_id is given, so the response
    time does not tell whether the client exists.
    """
    if client_id is None:
        raise InvalidClientError(hint=MISSING_CLIENT_HINT)
    client = None
    number = _parse_client_id(client_id)
    if number is not None:
        client = await session.get(OAuthClient, number)
    if client is None:
        stored_hash = await asyncio.to_thread(dummy_hash)
    else:
        stored_hash = client.secret_hash
    matches = await asyncio.to_thread(verify_secret, stored_hash, client_secret or "")
    if client is None:
        logger.info(
            "oauth.client_rejected", extra={"client_id": number, "reason": "unknown"}
        )
        raise InvalidClientError()
    fields = {"tenant_id": client.tenant_id, "client_id": client.id}
    if client.revoked_at is not None:
        logger.info("oauth.client_rejected", extra={**fields, "reason": "revoked"})
        raise InvalidClientError()
    if client_secret is None:
        logger.info(
            "oauth.client_rejected", extra={**fields, "reason": "missing secret"}
        )
        raise InvalidClientError(hint=MISSING_CLIENT_HINT)
    if not matches:
        logger.info("oauth.client_rejected", extra={**fields, "reason": "wrong secret"})
        raise InvalidClientError()
    return client


def _parse_client_id(client_id: str) -> int | None:
    # The length check also keeps int() away from its limit on very long strings.
    if len(client_id) > len(str(MAX_CLIENT_ID)):
        return None
    if not (client_id.isascii() and client_id.isdigit()):
        return None
    number = int(client_id)
    if number > MAX_CLIENT_ID:
        return None
    return number
