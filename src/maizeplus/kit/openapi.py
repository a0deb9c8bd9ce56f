"""OpenAPI descriptions of the error envelope, for the ``responses`` of a route."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
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
    413: "The request body is over the size limit",
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


class UnavailableBody(BaseModel):
    """The body of a 503: the database cannot be reached or used right now."""

    message: str = Field(examples=["Service Unavailable."])


# Operations that need no database, so they never return the 503 below.
_WITHOUT_DATABASE = {("get", "/health")}
_BODY_METHODS = {"post", "put", "patch", "delete"}


def complete_openapi(app: FastAPI, query_parameters: dict[str, dict[str, Any]]) -> None:
    """Make ``app.openapi`` describe the responses that FastAPI leaves out or gets wrong.

    - A 422 is the contract's ``{"message", "errors"}``, never FastAPI's
      ``{"detail"}``, which the error handlers replace.
    - Every operation that reads the database may return 503 with
      ``Retry-After`` while the database cannot be reached.
    - Every operation with a body may answer 413 when the body is over the
      limit (``kit.body_limit``).
    - A query parameter named in ``query_parameters`` gets the fields given
      there, such as its schema. The page parameters, for example, are
      declared as strings in Python, so that their errors get the contract's
      messages, but the API takes integers.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            _complete(schema, query_parameters)
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def _complete(
    schema: dict[str, Any], query_parameters: dict[str, dict[str, Any]]
) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (ErrorBody, ValidationErrorBody, UnavailableBody):
        components.setdefault(model.__name__, model.model_json_schema())
    validation_ref = {"$ref": "#/components/schemas/ValidationErrorBody"}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status, response in responses.items():
                content = response.get("content", {}).get("application/json", {})
                if status == "422" and "HTTPValidationError" in str(content):
                    content["schema"] = dict(validation_ref)
            if (method, path) not in _WITHOUT_DATABASE:
                responses.setdefault("503", _unavailable_response())
            if method in _BODY_METHODS:
                responses.setdefault("413", _error_response(413))
            for parameter in operation.get("parameters", []):
                fields = query_parameters.get(parameter.get("name", ""))
                if parameter.get("in") == "query" and fields is not None:
                    parameter.update(fields)
    for name in ("HTTPValidationError", "ValidationError"):
        component = components.pop(name, None)
        if component is not None and f'/{name}"' in json.dumps(schema):
            components[name] = component


def _error_response(status: int) -> dict[str, Any]:
    return {
        "description": _DESCRIPTIONS.get(status, ""),
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
        },
    }


def _unavailable_response() -> dict[str, Any]:
    return {
        "description": "The database cannot be reached; retry after the seconds "
        "that `Retry-After` gives",
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before retrying",
                "schema": {"type": "integer"},
            }
        },
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/UnavailableBody"}
            }
        },
    }
