"""OAuth2 tokens for the client: taking them, keeping them, renewing them.

``TokenManager`` takes a token with the password grant (an API account) or the
client_credentials grant (no account). It renews the token before it expires
with the refresh_token grant, and takes a new grant of the original kind when
the refresh fails. A refresh rotates the refresh token, so a refresh request
that may have reached the server is never repeated. The manager takes a new
grant instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from maizeplus.client.errors import (
    ConnectionFailedError,
    MaizeplusError,
    OAuthError,
    ServerError,
)
from maizeplus.client.models import Token
from maizeplus.client.transport import Call, Flow, RetryPolicy, exchange

logger = logging.getLogger("maizeplus.client")

TOKEN_PATH = "/oauth/token"  # noqa: S105 - a route, not a secret
# Renew this long before expiry, but never earlier than halfway through the
# token's lifetime, so that a short-lived token is not renewed on every call.
DEFAULT_REFRESH_MARGIN_SECONDS = 60.0


@dataclass(frozen=True)
class Credentials:
    """The credentials that the client authenticates with.

    With ``username`` and ``password`` the client uses the password grant;
    without them, the client_credentials grant. A ``scope`` of ``*`` requests
    every scope.
    """

    client_id: str
    client_secret: str = field(repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    scope: str = "*"

    def __post_init__(self) -> None:
        if (self.username is None) != (self.password is None):
            raise ValueError(
                "give both username and password for the password grant, "
                "or neither for the client_credentials grant"
            )

    @property
    def grant_type(self) -> str:
        return "client_credentials" if self.username is None else "password"

    def grant_form(self) -> dict[str, str]:
        """Build the token request's fields for a new grant."""
        form = {
            "grant_type": self.grant_type,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "scope": self.scope,
        }
        if self.username is not None and self.password is not None:
            form["username"] = self.username
            form["password"] = self.password
        return form


@dataclass(frozen=True)
class StoredToken:
    """A token with the Unix times at which to renew it and at which it expires."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: float
    renew_at: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> StoredToken:
        """Build a token from ``to_dict``'s output; raises KeyError or ValueError otherwise."""
        return cls(
            access_token=str(values["access_token"]),
            refresh_token=values.get("refresh_token"),
            expires_at=float(values["expires_at"]),
            renew_at=float(values["renew_at"]),
        )


class TokenStore(Protocol):
    """Storage that keeps a token beyond one process, such as the command line's token file."""

    def load(self) -> StoredToken | None:
        """Return the stored token, or None when there is none."""
        ...

    def save(self, token: StoredToken) -> None:
        """Store ``token`` in place of the previous one."""
        ...


class StaticToken:
    """An access token given by the caller, used as it is and never renewed."""

    def __init__(self, access_token: str) -> None:
        self._access_token = access_token

    def access_token_flow(self, rejected: str | None) -> Flow[str]:
        # A rejected static token comes back unchanged, so the call raises the 401.
        yield from ()
        return self._access_token


class TokenManager:
    """Takes, keeps and renews the access token for one set of credentials.

    ``refresh_margin`` is how many seconds before expiry the token is renewed.
    By default it is 60 seconds, or half the token's lifetime when that is
    shorter. ``store`` keeps the token across processes.
    """

    def __init__(
        self,
        credentials: Credentials,
        policy: RetryPolicy,
        *,
        refresh_margin: float | None = None,
        store: TokenStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.credentials = credentials
        self.policy = policy
        self.refresh_margin = refresh_margin
        self.store = store
        self.clock = clock
        self._token: StoredToken | None = None
        self._loaded = store is None

    def access_token_flow(self, rejected: str | None) -> Flow[str]:
        """Return the current access token, renewing it when due or ``rejected``."""
        token = self._current()
        if token is not None:
            if rejected is not None and token.access_token != rejected:
                return token.access_token  # renewed by another caller meanwhile
            if rejected is None and self.clock() < token.renew_at:
                return token.access_token

        if token is not None and token.refresh_token is not None:
            try:
                fresh = yield from self._token_flow(
                    {
                        "grant_type": "refresh_token",
                        "refresh_token": token.refresh_token,
                        "client_id": self.credentials.client_id,
                        "client_secret": self.credentials.client_secret,
                        "scope": self.credentials.scope,
                    },
                    idempotent=False,
                )
            except (OAuthError, ConnectionFailedError, ServerError) as error:
                logger.info(
                    "token refresh failed (%s); taking a new token with the %s grant",
                    _reason(error),
                    self.credentials.grant_type,
                )
            else:
                logger.info("access token refreshed")
                return self._keep(fresh).access_token

        fresh = yield from self.grant_flow()
        return fresh.access_token

    def grant_flow(self) -> Flow[Token]:
        """Take a new token with the credentials' grant and keep it."""
        fresh = yield from self._token_flow(
            self.credentials.grant_form(), idempotent=True
        )
        logger.info(
            "access token issued with the %s grant", self.credentials.grant_type
        )
        self._keep(fresh)
        return fresh

    def _token_flow(self, form: dict[str, str], *, idempotent: bool) -> Flow[Token]:
        # A new password or client_credentials grant only issues another token,
        # so it may be repeated; a refresh rotates the refresh token and may not.
        call = Call(
            "POST", TOKEN_PATH, form=form, authenticated=False, idempotent=idempotent
        )
        response = yield from exchange(call, self.policy)
        return Token.model_validate(response.json())

    def _current(self) -> StoredToken | None:
        if not self._loaded:
            self._loaded = True
            assert self.store is not None
            try:
                self._token = self.store.load()
            except (OSError, ValueError, KeyError, TypeError) as error:
                logger.warning(
                    "ignoring the stored token, which is unreadable: %s", error
                )
        return self._token

    def _keep(self, token: Token) -> StoredToken:
        now = self.clock()
        margin = self.refresh_margin
        if margin is None:
            margin = min(DEFAULT_REFRESH_MARGIN_SECONDS, token.expires_in / 2)
        stored = StoredToken(
            access_token=token.access_token,
            refresh_token=token.refresh_token,
            expires_at=now + token.expires_in,
            renew_at=now + token.expires_in - margin,
        )
        self._token = stored
        if self.store is not None:
            try:
                self.store.save(stored)
            except OSError as error:
                logger.warning("could not store the access token: %s", error)
        return stored


def _reason(error: MaizeplusError) -> str:
    if isinstance(error, OAuthError):
        return error.error
    return type(error).__name__
