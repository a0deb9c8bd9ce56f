"""Slow hashes (Argon2id) for passwords and client secrets."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from maizeplus.kit.metrics import SECRET_VERIFICATIONS
from maizeplus.settings import get_settings


@cache
def _hasher(time_cost: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)


def password_hasher() -> PasswordHasher:
    """Return the hasher configured by the settings."""
    settings = get_settings()
    return _hasher(settings.password_hash_time_cost, settings.password_hash_memory_kib)


def hash_secret(secret: str) -> str:
    """Hash a password or client secret for storage."""
    return password_hasher().hash(secret)


def verify_secret(stored_hash: str, secret: str) -> bool:
    """Check a secret against its stored hash, in time that does not depend on why it fails."""
    SECRET_VERIFICATIONS.inc()
    try:
        return password_hasher().verify(stored_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


@cache
def dummy_hash() -> str:
    """Return a hash to verify against when no account matches, so timing matches.

    NOTE: a hash keeps the Argon2 parameters it was made with. An account whose
    password was set before MAIZEPLUS_PASSWORD_HASH_* changed verifies at the
    old cost, unlike this hash, until its password is set again.
    """
    return hash_secret("no account has this password")
