"""Random tokens and the digests under which they are stored."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 40


def new_token() -> str:
    """Return a fresh opaque token (320 random bits, URL-safe)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    """Return the SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
