"""Request and response bodies of the OAuth endpoints, as OpenAPI documents them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

BODY_MEDIA_TYPES = (
    "multipart/form-data",
    "application/x-www-form-urlencoded",
    "application/json",
)


class TokenRequestBody(BaseModel):
    """The parameters of ``POST /oauth/token``; the grant decides which are required."""

    grant_type: Literal["password", "refresh_token", "client_credentials"]
    client_id: str | None = Field(
        default=None,
        description="Integer id of the OAuth client. Omit it when the client "
        "authenticates with HTTP Basic.",
    )
    client_secret: str | None = Field(
        default=None,
        description="Omit it when the client authenticates with HTTP Basic.",
    )
    username: str | None = Field(
        default=None,
        description="password grant: the API account, matched without regard to case.",
    )
    password: str | None = Field(
        default=None, description="password grant: the account's password."
    )
    refresh_token: str | None = Field(
        default=None, description="refresh_token grant: the refresh token to rotate."
    )
    scope: str | None = Field(
        default="*",
        description="Space-separated scopes; `*` or empty means every scope.",
    )


class RevocationRequestBody(BaseModel):
    """The parameters of ``POST /oauth/token/revoke`` (RFC 7009 section 2.1)."""

    token: str = Field(description="The access or refresh token to revoke.")
    token_type_hint: Literal["access_token", "refresh_token"] | None = Field(
        default=None,
        description="Accepted and ignored: both kinds of token are looked up.",
    )
    client_id: str | None = None
    client_secret: str | None = None


class TokenResponse(BaseModel):
    """A successful token response (RFC 6749 section 5.1)."""

    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - a scheme, not a secret
    expires_in: int = Field(description="Seconds until the access token expires.")
    access_token: str
    refresh_token: str | None = Field(
        default=None, description="Absent for the client_credentials grant."
    )


class OAuthErrorResponse(BaseModel):
    """A token endpoint error (RFC 6749 section 5.2) in Laravel Passport's shape."""

    error: Literal[
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unsupported_grant_type",
        "invalid_scope",
    ]
    error_description: str
    message: str = Field(description="The same text as error_description.")
    hint: str | None = Field(
        default=None, description="What to check, when there is a hint."
    )


def form_request_body(model: type[BaseModel]) -> dict[str, Any]:
    """Build an OpenAPI ``requestBody`` that accepts ``model`` in each body encoding."""
    schema = model.model_json_schema()
    return {
        "required": True,
        "content": {media_type: {"schema": schema} for media_type in BODY_MEDIA_TYPES},
    }
