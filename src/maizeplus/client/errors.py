"""Exceptions of the API client.

Every exception derives from ``MaizeplusError``. An error response of the API
becomes an ``ApiError`` subclass chosen by its status, carrying the status, the
``message`` of the body and the field errors of a 422.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import httpx


class MaizeplusError(Exception):
    """Root of every exception that the client raises."""


class ApiError(MaizeplusError):
    """An error response of the API.

    ``message`` is the body's ``message`` (Laravel's envelope), or the HTTP
    reason phrase when the body has none. ``errors`` maps each invalid field to
    its messages; it is empty unless the server sent field errors (422).
    ``attempts`` counts the requests sent, retries included.
    """

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        errors: Mapping[str, list[str]] | None = None,
        body: Any = None,
        method: str = "",
        url: str = "",
        headers: Mapping[str, str] | None = None,
        attempts: int = 1,
    ) -> None:
        self.status_code = status_code
        self.message = message
        self.errors = dict(errors or {})
        self.body = body
        self.method = method
        self.url = url
        self.headers = dict(headers or {})
        self.attempts = attempts
        super().__init__(self._describe())

    def _describe(self) -> str:
        text = f"{self.status_code} {self.message}"
        if self.method and self.url:
            text = f"{self.method} {self.url}: {text}"
        return text


class BadRequestError(ApiError):
    """400: the request is malformed, for example an unknown ``include`` name."""


class UnauthenticatedError(ApiError):
    """401: the access token is missing, unknown, expired or revoked."""


class NotFoundError(ApiError):
    """404: no such job, or some of the emails of a deletion belong to no user."""


class PayloadTooLargeError(ApiError):
    """413: the upload is larger than the server accepts."""


class ValidationFailedError(ApiError):
    """422: some fields are invalid; ``errors`` maps each field to its messages."""


class RateLimitedError(ApiError):
    """429 that the client did not wait out.

    ``retry_after`` is the wait in seconds that the server asked for, or None
    when it sent no ``Retry-After``.
    """

    def __init__(self, *args: Any, retry_after: float | None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(*args, **kwargs)


class ServerError(ApiError):
    """A 5xx response, after the retries that the call allows."""


class OAuthError(ApiError):
    """An error of the token endpoint (RFC 6749 section 5.2).

    ``error`` is the RFC's code: ``invalid_request``, ``invalid_client``,
    ``invalid_grant``, ``unsupported_grant_type`` or ``invalid_scope``.
    """

    def __init__(self, *args: Any, error: str, **kwargs: Any) -> None:
        self.error = error
        super().__init__(*args, **kwargs)

    def _describe(self) -> str:
        return f"{super()._describe()} ({self.error})"


class ConnectionFailedError(MaizeplusError):
    """The request failed before a response arrived, after the retries it allows.

    ``sent`` is False when the connection could not be opened, so the server
    cannot have seen the request. When it is True, a non-idempotent request
    (an upload) may have been applied even though no response arrived.
    """

    def __init__(
        self, message: str, *, method: str, url: str, sent: bool, attempts: int
    ) -> None:
        self.method = method
        self.url = url
        self.sent = sent
        self.attempts = attempts
        super().__init__(message)


class PagingError(MaizeplusError):
    """A paginated response whose links cannot be followed, such as a loop."""


class WaitTimeoutError(MaizeplusError):
    """An import job was still running when the wait ended; ``job`` is its last status."""

    def __init__(self, message: str, job: Any) -> None:
        self.job = job
        super().__init__(message)


_STATUS_ERRORS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: UnauthenticatedError,
    404: NotFoundError,
    413: PayloadTooLargeError,
    422: ValidationFailedError,
}


def _decode_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        # json.JSONDecodeError is a ValueError. A proxy's HTML error page lands here.
        return None


def _field_errors(body: Any) -> dict[str, list[str]]:
    raw = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(raw, dict):
        return {}
    errors: dict[str, list[str]] = {}
    for field, messages in raw.items():
        if isinstance(messages, list):
            errors[str(field)] = [str(message) for message in messages]
        else:
            errors[str(field)] = [str(messages)]
    return errors


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Parse a ``Retry-After`` header into seconds from ``now`` (a Unix time).

    The header is either a number of seconds or an HTTP date (RFC 9110
    section 10.2.3). Returns None when it is absent or malformed.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - now)


def error_from_response(
    response: httpx.Response, *, attempts: int, now: float
) -> ApiError:
    """Build the exception for an error response, chosen by its status and body."""
    body = _decode_body(response)
    body_message = body.get("message") if isinstance(body, dict) else None
    message = (
        str(body_message) if body_message else response.reason_phrase or "HTTP error"
    )
    common: dict[str, Any] = {
        "errors": _field_errors(body),
        "body": body if body is not None else response.text,
        "method": response.request.method,
        "url": str(response.request.url),
        "headers": response.headers,
        "attempts": attempts,
    }
    status = response.status_code
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        if not body_message:
            message = str(body.get("error_description") or body["error"])
        return OAuthError(status, message, error=body["error"], **common)
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now)
        return RateLimitedError(status, message, retry_after=retry_after, **common)
    if status >= 500:
        return ServerError(status, message, **common)
    return _STATUS_ERRORS.get(status, ApiError)(status, message, **common)


def describe_field_errors(errors: Mapping[str, list[str]]) -> str:
    """Render field errors as ``field: message`` lines, for the command line."""
    return "\n".join(
        f"{field}: {message}"
        for field, messages in errors.items()
        for message in messages
    )


__all__ = [
    "ApiError",
    "BadRequestError",
    "ConnectionFailedError",
    "MaizeplusError",
    "NotFoundError",
    "OAuthError",
    "PagingError",
    "PayloadTooLargeError",
    "RateLimitedError",
    "ServerError",
    "UnauthenticatedError",
    "ValidationFailedError",
    "WaitTimeoutError",
    "describe_field_errors",
    "error_from_response",
    "parse_retry_after",
]
