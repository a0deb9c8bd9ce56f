"""Domain errors that carry their HTTP status, and the handlers that render them.

Every error body follows the envelope of the original Laravel service:
``{"message": "..."}``, plus ``"errors": {"field": ["..."]}`` on a 422. A
request that cannot reach the database gets a 503 with ``Retry-After``.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from maizeplus.kit.cache_headers import NO_STORE_HEADERS
from maizeplus.kit.routes import allowed_methods, route_template

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5

# Primary SQLite result codes that mean the database cannot be used right now.
# SQLITE_ERROR is not one of them: it also covers syntax errors and missing
# tables, which waiting does not fix.
_SQLITE_UNAVAILABLE_CODES = frozenset(
    {
        sqlite3.SQLITE_BUSY,  # "database is locked" after the busy timeout
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_PROTOCOL,
    }
)


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


def is_database_unavailable(error: BaseException) -> bool:
    """Tell whether ``error`` means that the database cannot be reached or used now.

    True for a pool timeout, for a driver error on a connection that SQLAlchemy
    invalidated, for psycopg's operational and interface errors (refused or
    lost connections, shutdowns, deadlocks, statement timeouts) and for SQLite
    busy, locked, I/O, open, full and protocol errors. False for other errors,
    which are faults in the request or the code.
    """
    if isinstance(error, sa_exc.TimeoutError):
        return True
    if isinstance(error, sa_exc.DBAPIError):
        return error.connection_invalidated or _driver_error_is_unavailable(error.orig)
    return _driver_error_is_unavailable(error)


def _driver_error_is_unavailable(error: BaseException | None) -> bool:
    if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
        return True
    if isinstance(error, sqlite3.OperationalError):
        code = getattr(error, "sqlite_errorcode", None)
        return code is not None and code & 0xFF in _SQLITE_UNAVAILABLE_CODES
    return False


def database_error_summary(error: BaseException) -> dict[str, str]:
    """Describe a database error for a log line: the driver's class and first line.

    SQLAlchemy's own message is left out because it contains the statement's
    parameters, which can be secrets such as token digests.
    """
    cause = error.orig if isinstance(error, sa_exc.DBAPIError) else error
    cause = cause if cause is not None else error
    lines = str(cause).strip().splitlines()
    return {
        "error": type(cause).__name__,
        "reason": lines[0][:300] if lines else "",
    }


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
    headers = dict(error.headers or {})
    if error.status_code == 404:
        message = f"The route {route} could not be found."
    elif error.status_code == 405:
        message = f"The {request.method} method is not supported for route {route}."
        methods = allowed_methods(request.app, request.url.path)
        if methods:
            headers["Allow"] = ", ".join(methods)
    else:
        message = str(error.detail)
    return JSONResponse(
        {"message": message}, status_code=error.status_code, headers=headers
    )


def _render_unexpected_error(request: Request, error: Exception) -> JSONResponse:
    logger.error(
        "request failed",
        exc_info=error,
        extra={"method": request.method, "path": request.url.path},
    )
    # Starlette sends this response past every middleware, NoStore included,
    # so it carries the no-store headers of the OAuth routes itself.
    return JSONResponse(
        {"message": "Server Error."}, status_code=500, headers=NO_STORE_HEADERS
    )


def _render_database_error(request: Request, error: Exception) -> JSONResponse:
    if not is_database_unavailable(error):
        return _render_unexpected_error(request, error)
    # NOTE: this logs one line per failed request. During an outage the 503
    # count of maizeplus_http_requests_total shows the rate without the logs.
    logger.warning(
        "database.unavailable",
        extra={
            "method": request.method,
            "route": route_template(request.scope) or request.url.path,
            **database_error_summary(error),
        },
    )
    return JSONResponse(
        {"message": "Service Unavailable."},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def install_error_handlers(app: FastAPI) -> None:
    """Render every error of the application in the contract's envelope."""
    app.add_exception_handler(DomainError, _render_domain_error)
    app.add_exception_handler(RequestValidationError, _render_validation_error)
    app.add_exception_handler(StarletteHTTPException, _render_http_error)
    # Database errors that mean "try again later" get a 503; the others a 500.
    for database_error in (sa_exc.SQLAlchemyError, psycopg.Error, sqlite3.Error):
        app.add_exception_handler(database_error, _render_database_error)
    app.add_exception_handler(Exception, _render_unexpected_error)
