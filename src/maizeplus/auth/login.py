"""Password checks of API accounts, with the lockout that limits guessing.

After ``max_failures`` consecutive wrong passwords an account is locked for
``lockout_seconds``. While it is locked every password is rejected and no
attempt is counted, so a guesser cannot extend the lock. The first wrong
password after the lock has expired starts a new count at 1. A right password
outside a lock resets the count.

Counts change through single ``UPDATE`` statements whose ``WHERE`` clause
re-checks the lock, so concurrent attempts neither lose a count nor slip past a
lock that another request has just set.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, case, null, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.auth.errors import InvalidGrantError
from maizeplus.auth.models import ApiAccount
from maizeplus.auth.passwords import dummy_hash, verify_secret
from maizeplus.auth.service import find_account
from maizeplus.kit.clock import utcnow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LockoutPolicy:
    """How many wrong passwords lock an account, and for how many seconds."""

    max_failures: int
    lockout_seconds: int


def _not_locked(now: datetime) -> Any:
    return or_(ApiAccount.locked_until.is_(None), ApiAccount.locked_until <= now)


async def verify_account_password(
    session: AsyncSession,
    tenant_id: int,
    username: str,
    password: str,
    policy: LockoutPolicy,
) -> ApiAccount:
    """Return the tenant's account if the password is right and the account unlocked.

    Every other outcome raises the same ``InvalidGrantError.credentials()``. Exactly
    one Argon2 verification runs in every case, against the dummy hash when no
    account has this username, so the response time does not tell whether the
    account exists or is locked. A failure count written here is meant to be
    committed together with the rejection.
    """
    account = await find_account(session, tenant_id, username)
    if account is None:
        stored_hash = await asyncio.to_thread(dummy_hash)
    else:
        stored_hash = account.password_hash
    # With the default settings, Argon2 needs an estimated tens of milliseconds
    # of CPU, so it runs off the event loop.
    # NOTE: only the default thread pool bounds concurrent verifications, and
    # each one uses password_hash_memory_kib of memory while it runs.
    matches = await asyncio.to_thread(verify_secret, stored_hash, password)
    if account is None:
        raise InvalidGrantError.credentials()

    now = utcnow()
    if matches:
        if await _reset_failures(session, account.id, now):
            return account
        logger.info(
            "oauth.login_locked_out",
            extra={"tenant_id": tenant_id, "account_id": account.id},
        )
    else:
        await _count_failure(session, account, now, policy)
    raise InvalidGrantError.credentials()


async def _reset_failures(
    session: AsyncSession, account_id: int, now: datetime
) -> bool:
    """Clear the count of an unlocked account; return False if the account is locked."""
    result = await session.execute(
        update(ApiAccount)
        .where(ApiAccount.id == account_id, _not_locked(now))
        .values(failed_attempts=0, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount == 1


async def _count_failure(
    session: AsyncSession, account: ApiAccount, now: datetime, policy: LockoutPolicy
) -> None:
    """Add one wrong password to an unlocked account and lock it at the limit."""
    lock_expired = and_(
        ApiAccount.locked_until.is_not(None), ApiAccount.locked_until <= now
    )
    failures = case((lock_expired, 1), else_=ApiAccount.failed_attempts + 1)
    locked_until = case(
        (
            failures >= policy.max_failures,
            now + timedelta(seconds=policy.lockout_seconds),
        ),
        (lock_expired, null()),
        else_=ApiAccount.locked_until,
    )
    # SET expressions read the row as it was before the update, on SQLite and
    # PostgreSQL alike, so ``failures`` means the same in both columns.
    row = (
        await session.execute(
            update(ApiAccount)
            .where(ApiAccount.id == account.id, _not_locked(now))
            .values(failed_attempts=failures, locked_until=locked_until)
            .returning(ApiAccount.failed_attempts, ApiAccount.locked_until)
            .execution_options(synchronize_session=False)
        )
    ).first()
    fields = {"tenant_id": account.tenant_id, "account_id": account.id}
    if row is None:
        logger.info("oauth.login_locked_out", extra=fields)
        return
    failed_attempts, new_locked_until = row
    if new_locked_until is not None and new_locked_until > now:
        logger.warning(
            "oauth.account_locked",
            extra={
                **fields,
                "failed_attempts": failed_attempts,
                "locked_until": new_locked_until,
            },
        )
    else:
        logger.info(
            "oauth.login_failed", extra={**fields, "failed_attempts": failed_attempts}
        )
