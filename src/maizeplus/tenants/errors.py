"""Errors of tenant management."""

from __future__ import annotations

from maizeplus.kit.errors import DomainError, NotFound


class TenantNotFound(NotFound):
    """No tenant has this name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Tenant {name!r} not found.")


class TenantAlreadyExists(DomainError):
    """A tenant with this name exists already."""

    status_code = 409

    def __init__(self, name: str) -> None:
        super().__init__(f"Tenant {name!r} already exists; choose another name.")


class UnknownLanguage(DomainError):
    """The language code is not an ISO 639-1 code."""

    status_code = 422

    def __init__(self, code: str) -> None:
        super().__init__(
            f"Language {code!r} is not an ISO 639-1 code, such as it or en."
        )
