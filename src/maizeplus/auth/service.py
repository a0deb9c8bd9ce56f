"""OAuth clients and API accounts of a tenant."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.auth.models import ApiAccount, OAuthClient
from maizeplus.auth.passwords import hash_secret
from maizeplus.kit.clock import utcnow
from maizeplus.kit.errors import DomainError
from maizeplus.tenants.models import Tenant

CLIENT_SECRET_BYTES = 30
GENERATED_PASSWORD_BYTES = 18


class AccountAlreadyExists(DomainError):
    """The tenant has an account with this username already."""

    status_code = 409

    def __init__(self, username: str) -> None:
        super().__init__(f"Account {username!r} already exists in this tenant.")


@dataclass(frozen=True)
class IssuedClient:
    """A new client and its secret, which is shown once and stored only as a hash."""

    client_id: int
    client_secret: str


async def create_client(session: AsyncSession, tenant: Tenant, name: str = "default") -> IssuedClient:
    """Add a confidential OAuth client to the tenant."""
    secret = secrets.token_urlsafe(CLIENT_SECRET_BYTES)
    client = OAuthClient(
        tenant_id=tenant.id, name=name, secret_hash=hash_secret(secret), created_at=utcnow()
    )
    session.add(client)
    await session.flush()
    return IssuedClient(client_id=client.id, client_secret=secret)


def normalize_username(username: str) -> str:
    """Usernames are matched without regard to case or surrounding spaces."""
    return username.strip().lower()


def generate_password() -> str:
    return secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)


async def find_account(session: AsyncSession, tenant_id: int, username: str) -> ApiAccount | None:
    return (
        await session.execute(
            select(ApiAccount).where(
                ApiAccount.tenant_id == tenant_id,
                ApiAccount.username == normalize_username(username),
            )
        )
    ).scalar_one_or_none()


async def create_account(
    session: AsyncSession, tenant: Tenant, username: str, password: str
) -> ApiAccount:
    """Add an API account to the tenant, with its password hashed."""
    if await find_account(session, tenant.id, username) is not None:
        raise AccountAlreadyExists(normalize_username(username))
    account = ApiAccount(
        tenant_id=tenant.id,
        username=normalize_username(username),
        password_hash=hash_secret(password),
        failed_attempts=0,
        created_at=utcnow(),
    )
    session.add(account)
    await session.flush()
    return account


async def set_account_password(session: AsyncSession, account: ApiAccount, password: str) -> None:
    account.password_hash = hash_secret(password)
    account.failed_attempts = 0
    account.locked_until = None
    await session.flush()
