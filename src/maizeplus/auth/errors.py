"""The error responses of the token endpoint (RFC 6749 section 5.2).

Bodies follow Laravel Passport, which copies ``error_description`` into
``message`` and may add a ``hint``. The descriptions are those of
league/oauth2-server, the library under Passport, except where this service
names the offending parameter.
"""

from __future__ import annotations

from typing import Any, ClassVar

from maizeplus.kit.errors import DomainError

# Maximum characters of a client-supplied value (such as a scope) that a hint repeats.
MAX_ECHOED_CHARS = 100


class OAuthError(DomainError):
    """Root of the errors that the token endpoint returns as ``{"error": ...}``."""

    error_code: ClassVar[str] = "invalid_request"

    def __init__(self, description: str, hint: str | None = None) -> None:
        self.description = description
        self.hint = hint
        super().__init__(description)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "error": self.error_code,
            "error_description": self.description,
            "message": self.description,
        }
        if self.hint is not None:
            body["hint"] = self.hint
        return body


class InvalidRequestError(OAuthError):
    """A parameter is missing, repeated or malformed, or the body cannot be read."""

    status_code = 400
    error_code = "invalid_request"

    @classmethod
    def missing(cls, parameter: str) -> InvalidRequestError:
        return cls(
            f"The request is missing the required parameter {parameter}.",
            hint=f"Check the `{parameter}` parameter",
        )


class InvalidClientError(OAuthError):
    """Client authentication failed: no, unknown or revoked client, or wrong secret."""

    status_code = 401
    error_code = "invalid_client"

    def __init__(self, hint: str | None = None) -> None:
        super().__init__("Client authentication failed", hint=hint)


class InvalidGrantError(OAuthError):
    """The user credentials or the refresh token are wrong, expired or revoked."""

    status_code = 400
    error_code = "invalid_grant"

    @classmethod
    def credentials(cls) -> InvalidGrantError:
        """Build the one error for a wrong password, an unknown user and a lock.

        The three must stay indistinguishable, so that a caller cannot find out
        which usernames exist or which accounts are locked.
        """
        return cls("The user credentials were incorrect.")

    @classmethod
    def refresh_token(cls, hint: str) -> InvalidGrantError:
        return cls("The refresh token is invalid.", hint=hint)


class UnsupportedGrantTypeError(OAuthError):
    """The grant_type is not one that this server implements."""

    status_code = 400
    error_code = "unsupported_grant_type"

    def __init__(self) -> None:
        super().__init__(
            "The authorization grant type is not supported by the authorization "
            "server.",
            hint="Use password, refresh_token or client_credentials as `grant_type`",
        )


class InvalidScopeError(OAuthError):
    """A requested scope is unknown or exceeds what the grant allows."""

    status_code = 400
    error_code = "invalid_scope"

    def __init__(self, scope: str) -> None:
        super().__init__(
            "The requested scope is invalid, unknown, or malformed",
            hint=f"Check the `{scope[:MAX_ECHOED_CHARS]}` scope",
        )
