"""HTTP route of ``DELETE /api/v1/users``: deactivate users by email, all or nothing."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response

from maizeplus.auth.dependencies import CurrentTenant
from maizeplus.db.session import SessionDep
from maizeplus.kit.errors import ValidationFailed
from maizeplus.kit.forms import read_form
from maizeplus.kit.openapi import error_responses
from maizeplus.users.deactivation import MAX_EMAILS_PER_REQUEST, deactivate_users

router = APIRouter(tags=["users management"])

EMAIL_KEYS = ("emails[]", "emails")
# Starlette's form parser rejects more fields than this before reading on, and
# read_form turns that into a 422 on emails.
MAX_FORM_FIELDS = 2000


def _emails_from_json(body: bytes) -> list[str]:
    try:
        document: Any = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        # UnicodeDecodeError and JSONDecodeError are ValueErrors; deep nesting
        # exhausts the decoder's recursion.
        raise ValidationFailed(
            {"emails": ["The request body is not valid JSON."]}
        ) from None
    emails = document.get("emails", []) if isinstance(document, dict) else None
    if not isinstance(emails, list) or not all(
        isinstance(item, str) for item in emails
    ):
        raise ValidationFailed(
            {"emails": ["The emails field must be a list of addresses."]}
        )
    return emails


def _email_list(name: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [name],
        "properties": {
            name: {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_EMAILS_PER_REQUEST,
                "items": {"type": "string", "format": "email"},
            }
        },
    }


def _request_body() -> dict[str, Any]:
    return {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {"schema": _email_list("emails[]")},
            "application/json": {"schema": _email_list("emails")},
        },
    }


async def requested_emails(request: Request) -> list[str]:
    """Collect ``emails[]`` from the query string and the body, in any of its encodings."""
    emails = [
        email for key in EMAIL_KEYS for email in request.query_params.getlist(key)
    ]
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("application/json"):
        emails += _emails_from_json(await request.body())
    elif content_type.startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        async with read_form(
            request, "emails", max_files=MAX_FORM_FIELDS, max_fields=MAX_FORM_FIELDS
        ) as form:
            emails += [str(value) for key in EMAIL_KEYS for value in form.getlist(key)]
    return emails


@router.delete(
    "/users",
    status_code=204,
    summary="Deactivate users by email; if any address is unknown, nothing changes",
    responses=error_responses(
        401,
        404,
        422,
        status_404="Some addresses belong to no user of the tenant; nothing changed",
        status_422="No addresses, or a malformed one",
    ),
    description="The addresses come as `emails[]` in an urlencoded or multipart "
    "body, as `emails` in a JSON body, or as `emails[]` in the query string. "
    f"At most {MAX_EMAILS_PER_REQUEST} addresses. An address at a special-use "
    "domain (RFC 6761, such as `.test`, `.local` or `.invalid`) is malformed.",
    openapi_extra={"requestBody": _request_body()},
)
async def delete_users(
    request: Request, tenant: CurrentTenant, session: SessionDep
) -> Response:
    await deactivate_users(session, tenant.tenant_id, await requested_emails(request))
    await session.commit()
    return Response(status_code=204)
