"""OpenAPI descriptions of the error envelope, for the ``responses`` of a route."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """The body of every error but a 422: ``{"message": "..."}``."""

    message: str = Field(examples=["Unauthenticated."])


class ValidationErrorBody(BaseModel):
    """The body of a 422: the summary message and the messages of each field."""

    message: str = Field(examples=["The page field must be at least 1."])
    errors: dict[str, list[str]] = Field(
        examples=[{"page": ["The page field must be at least 1."]}]
    )


_DESCRIPTIONS = {
    400: "The request is invalid",
    401: "The bearer token is missing, unknown, expired or revoked",
    404: "Not found",
    422: "A parameter is invalid; `errors` names it",
    429: "Too Many Attempts: the access token used up its requests of the "
    "minute. `Retry-After` gives the seconds until the next window",
}


def error_responses(*statuses: int, **descriptions: str) -> dict[int | str, Any]:
    """Build a route's ``responses`` for error statuses, each with its body model.

    A description given as ``status_400="..."`` replaces the default one.
    """
    responses: dict[int | str, Any] = {}
    for status in statuses:
        model = ValidationErrorBody if status == 422 else ErrorBody
        description = descriptions.get(
            f"status_{status}", _DESCRIPTIONS.get(status, "")
        )
        responses[status] = {"model": model, "description": description}
    return responses
