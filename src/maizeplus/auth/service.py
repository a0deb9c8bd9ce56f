"""OAuth clients and API accounts of a tenant."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.auth.models import ApiAccount, OAuthClient
from maizeplus.auth.passwords import hash_secret
from maizeplus.kit.clock import utcnow
from maizeplus.kit.errors import DomainError, NotFound
from maizeplus.tenants.models import Tenant

CLIENT_SECRET_BYTES = 30
GENERATED_PASSWORD_BYTES = 18
MIN_PASSWORD_LENGTH = 12
# ApiAccount.username is a VARCHAR(320), the maximum length of an e-mail address.
MAX_USERNAME_LENGTH = 320


class AccountAlreadyExists(DomainError):
    """The tenant has an account with this username already."""

    status_code = 409

    def __init__(self, username: str) -> None:
        super().__init__(f"Account {username!r} already exists in this tenant.")


class InvalidAccountError(DomainError):
    """A username or password that an API account cannot have."""

    status_code = 422


class ClientNotFound(NotFound):
    """The tenant has no OAuth client with this id."""

    def __init__(self, client_id: int) -> None:
        super().__init__(f"Client {client_id} not found in this tenant.")


class AccountNotFound(NotFound):
    """The tenant has no API account with this username."""

    def __init__(self, username: str) -> None:
        super().__init__(f"Account {username!r} not found in this tenant.")


@dataclass(frozen=True)
class IssuedClient:
    """A new client and its secret, which is shown once and stored only as a hash."""

    client_id: int
    client_secret: str


async def create_client(
    session: AsyncSession, tenant: Tenant, name: str = "default"
) -> IssuedClient:
    """Add a confidential OAuth client to the tenant."""
    secret = secrets.token_urlsafe(CLIENT_SECRET_BYTES)
    client = OAuthClient(
        tenant_id=tenant.id,
        name=name,
        secret_hash=hash_secret(secret),
        created_at=utcnow(),
    )
    session.add(client)
    await session.flush()
    return IssuedClient(client_id=client.id, client_secret=secret)


def normalize_username(username: str) -> str:
    """Usernames are matched without regard to case or surrounding spaces."""
    return username.strip().lower()


def generate_password() -> str:
    return secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)


def check_new_password(password: str) -> None:
    """Raise ``InvalidAccountError`` if an operator-chosen password is too short.

    ``create_account`` does not call this, so fixtures may use any password.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidAccountError(
            f"The password has {len(password)} characters; use at least "
            f"{MIN_PASSWORD_LENGTH}, or omit it to get a generated one."
        )


async def get_client(
    session: AsyncSession, tenant_id: int, client_id: int
) -> OAuthClient:
    """Return the tenant's client with this id, or raise ``ClientNotFound``."""
    client = await session.get(OAuthClient, client_id)
    if client is None or client.tenant_id != tenant_id:
        raise ClientNotFound(client_id)
    return client


async def get_account(
    session: AsyncSession, tenant_id: int, username: str
) -> ApiAccount:
    """Return the tenant's account with this username, or raise ``AccountNotFound``."""
    account = await find_account(session, tenant_id, username)
    if account is None:
        raise AccountNotFound(normalize_username(username))
    return account


async def find_account(
    session: AsyncSession, tenant_id: int, username: str
) -> ApiAccount | None:
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
    normalized = normalize_username(username)
    if not normalized or len(normalized) > MAX_USERNAME_LENGTH:
        raise InvalidAccountError(
            f"The username is empty or longer than {MAX_USERNAME_LENGTH} characters."
        )
    if await find_account(session, tenant.id, username) is not None:
        raise AccountAlreadyExists(normalized)
    account = ApiAccount(
        tenant_id=tenant.id,
        username=normalized,
        password_hash=hash_secret(password),
        failed_attempts=0,
        created_at=utcnow(),
    )
    session.add(account)
    await session.flush()
    return account


async def set_account_password(
    session: AsyncSession, account: ApiAccount, password: str
) -> None:
    account.password_hash = hash_secret(password)
    account.failed_attempts = 0
    account.locked_until = None
    await session.flush()
