"""Domain errors that carry their HTTP status, and the handlers that render them.

Every error body follows the envelope of the original Laravel service:
``{"message": "..."}``, plus ``"errors": {"field": ["..."]}`` on a 422.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """Root of the errors that a service raises for a condition the caller can fix."""

    status_code: ClassVar[int] = 400
    default_message: ClassVar[str] = "The request is invalid."

    def __init__(
        self, message: str | None = None, headers: Mapping[str, str] | None = None
    ) -> None:
        self.message = message or self.default_message
        self.headers = dict(headers or {})
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        return {"message": self.message}


class NotFound(DomainError):
    """The resource does not exist for this tenant."""

    status_code = 404
    default_message = "Not Found."


class Unauthenticated(DomainError):
    """The bearer token is missing, unknown, expired or revoked."""

    status_code = 401
    default_message = "Unauthenticated."

    def __init__(self) -> None:
        super().__init__(headers={"WWW-Authenticate": "Bearer"})


class ValidationFailed(DomainError):
    """One or more input fields are invalid; each gets its list of messages."""

    status_code = 422

    def __init__(self, errors: Mapping[str, Sequence[str]]) -> None:
        self.errors = {field: list(messages) for field, messages in errors.items()}
        super().__init__(laravel_summary(self.errors))

    def body(self) -> dict[str, Any]:
        return {"message": self.message, "errors": self.errors}


class PayloadTooLarge(DomainError):
    """The request body is larger than the upload limit."""

    status_code = 413
    default_message = "The request body is too large."


def laravel_summary(errors: Mapping[str, Sequence[str]]) -> str:
    """Build Laravel's top-level message: the first error and how many follow."""
    messages = [
        message for field_messages in errors.values() for message in field_messages
    ]
    if not messages:
        return "The given data was invalid."
    rest = len(messages) - 1
    if rest == 0:
        return messages[0]
    noun = "error" if rest == 1 else "errors"
    return f"{messages[0]} (and {rest} more {noun})"


def _render_domain_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    return JSONResponse(
        error.body(), status_code=error.status_code, headers=error.headers
    )


def _render_validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors: dict[str, list[str]] = {}
    for item in error.errors():
        location = [
            str(part) for part in item.get("loc", ()) if part not in ("body", "query")
        ]
        field = ".".join(location) or "request"
        errors.setdefault(field, []).append(
            f"The {field} field is invalid: {item['msg']}."
        )
    return _render_domain_error(_request, ValidationFailed(errors))


def _render_http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    route = request.url.path.lstrip("/")
    if error.status_code == 404:
        message = f"The route {route} could not be found."
    elif error.status_code == 405:
        message = f"The {request.method} method is not supported for route {route}."
    else:
        message = str(error.detail)
    return JSONResponse(
        {"message": message}, status_code=error.status_code, headers=error.headers
    )


def _render_unexpected_error(request: Request, error: Exception) -> JSONResponse:
    logger.error(
        "request failed",
        exc_info=error,
        extra={"method": request.method, "path": request.url.path},
    )
    return JSONResponse({"message": "Server Error."}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """Render every error of the application in the contract's envelope."""
    app.add_exception_handler(DomainError, _render_domain_error)
    app.add_exception_handler(RequestValidationError, _render_validation_error)
    app.add_exception_handler(StarletteHTTPException, _render_http_error)
    app.add_exception_handler(Exception, _render_unexpected_error)
