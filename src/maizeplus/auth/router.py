"""HTTP routes of OAuth: the token endpoint and token revocation.

Every response of these routes, errors and 405 included, carries
``Cache-Control: no-store`` and ``Pragma: no-cache`` (RFC 6749 section 5.1).
The routes set them on their own responses, and the ``NoStore`` middleware on
the others (a 413 or a 503 from the application's handlers).
"""

from __future__ import annotations

from typing import Annotated, NoReturn

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from maizeplus.auth.errors import InvalidClientError, OAuthError
from maizeplus.auth.grants import TokenPolicy, issue_tokens
from maizeplus.auth.revocation import revoke_client_token
from maizeplus.auth.schemas import (
    OAuthErrorResponse,
    RevocationRequestBody,
    TokenRequestBody,
    TokenResponse,
    form_request_body,
)
from maizeplus.auth.throttle import (
    client_address,
    count_oauth_request,
    revocation_key,
    token_key,
)
from maizeplus.auth.token_params import (
    REVOCATION_PARAMETERS,
    TOKEN_PARAMETERS,
    read_parameters,
    uses_basic_auth,
)
from maizeplus.db.session import SessionDep
from maizeplus.kit.cache_headers import NO_STORE_HEADERS
from maizeplus.kit.openapi import ErrorBody
from maizeplus.kit.rate_limit import RateLimitResult, TooManyAttempts
from maizeplus.settings import Settings

router = APIRouter(tags=["oauth"])

TOKEN_PATH = "/oauth/token"  # noqa: S105 - a route, not a secret
REVOCATION_PATH = "/oauth/token/revoke"
BASIC_CHALLENGE = 'Basic realm="oauth"'

ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    400: {
        "model": OAuthErrorResponse,
        "description": "invalid_request, invalid_grant, unsupported_grant_type or "
        "invalid_scope.",
    },
    401: {
        "model": OAuthErrorResponse,
        "description": "invalid_client. With `WWW-Authenticate: Basic` when the "
        "client authenticated with HTTP Basic.",
    },
    429: {
        "model": ErrorBody,
        "description": '`{"message": "Too Many Attempts."}`, with `Retry-After`: '
        "the client has used up its attempts of the minute.",
    },
}


def token_policy(request: Request) -> TokenPolicy:
    settings: Settings = request.app.state.settings
    return TokenPolicy.from_settings(settings)


def _too_many_attempts(result: RateLimitResult) -> JSONResponse:
    error = TooManyAttempts(result)
    return JSONResponse(
        error.body(),
        status_code=error.status_code,
        headers={**NO_STORE_HEADERS, **error.headers},
    )


def _error_response(error: OAuthError, basic_auth: bool) -> JSONResponse:
    headers = dict(NO_STORE_HEADERS)
    if basic_auth and isinstance(error, InvalidClientError):
        headers["WWW-Authenticate"] = BASIC_CHALLENGE
    return JSONResponse(error.body(), status_code=error.status_code, headers=headers)


@router.post(
    TOKEN_PATH,
    summary="Issue an access token",
    description="Grants: `password` (an API account), `refresh_token` (rotates the "
    "pair; replaying a rotated refresh token revokes its whole family) and "
    "`client_credentials` (a tenant token without a user or refresh token). The "
    "client authenticates with client_id and client_secret in the body or with "
    "HTTP Basic.",
    response_model=None,
    responses={200: {"model": TokenResponse}, **ERROR_RESPONSES},
    openapi_extra={"requestBody": form_request_body(TokenRequestBody)},
)
async def issue_token(
    request: Request,
    session: SessionDep,
    policy: Annotated[TokenPolicy, Depends(token_policy)],
) -> JSONResponse:
    basic_auth = uses_basic_auth(request.headers)
    # On SQLite the write lock is held from the client lookup to the commit, so
    # both Argon2 checks run under it and concurrent token requests wait.
    try:
        parameters = await read_parameters(request, TOKEN_PARAMETERS)
        key = token_key(
            parameters.client_id, parameters.get("username"), client_address(request)
        )
        limit = await count_oauth_request(request, key, parameters.client_id)
        if not limit.allowed:
            return _too_many_attempts(limit)
        tokens = await issue_tokens(session, parameters.token_request(), policy)
    except OAuthError as error:
        # A failure count or a revoked token family must persist with the rejection.
        await session.commit()
        return _error_response(error, basic_auth)
    await session.commit()
    body = TokenResponse(
        expires_in=tokens.expires_in,
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
    )
    return JSONResponse(body.model_dump(exclude_none=True), headers=NO_STORE_HEADERS)


@router.post(
    REVOCATION_PATH,
    summary="Revoke an access or refresh token (RFC 7009)",
    description="Revokes the token and the other tokens of its grant. Returns 200 "
    "with `{}` also for a token that is unknown or belongs to another client.",
    response_model=None,
    responses={
        200: {"description": "The token is no longer valid."},
        **ERROR_RESPONSES,
    },
    openapi_extra={"requestBody": form_request_body(RevocationRequestBody)},
)
async def revoke_token(request: Request, session: SessionDep) -> JSONResponse:
    basic_auth = uses_basic_auth(request.headers)
    try:
        parameters = await read_parameters(request, REVOCATION_PARAMETERS)
        key = revocation_key(parameters.client_id, client_address(request))
        limit = await count_oauth_request(request, key, parameters.client_id)
        if not limit.allowed:
            return _too_many_attempts(limit)
        await revoke_client_token(
            session,
            parameters.client_id,
            parameters.client_secret,
            parameters.get("token"),
        )
    except OAuthError as error:
        return _error_response(error, basic_auth)
    await session.commit()
    return JSONResponse({}, headers=NO_STORE_HEADERS)


@router.api_route(
    TOKEN_PATH,
    methods=["GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"],
    include_in_schema=False,
    response_model=None,
)
@router.api_route(
    REVOCATION_PATH,
    methods=["GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"],
    include_in_schema=False,
    response_model=None,
)
async def reject_other_methods() -> NoReturn:
    """Reject other methods with a JSON 405 from the app's handler, plus no-store."""
    raise StarletteHTTPException(405, headers={"Allow": "POST", **NO_STORE_HEADERS})
