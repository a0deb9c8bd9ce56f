"""HTTP routes of the users domain."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from maizeplus.auth.dependencies import CurrentTenant
from maizeplus.db.session import SessionDep
from maizeplus.kit.openapi import error_responses
from maizeplus.kit.page_api import PageQuery, page_response
from maizeplus.users import service
from maizeplus.users.repository import ExportedUser
from maizeplus.users.schemas import (
    UserPage,
)
from maizeplus.users.service import UserInclude

router = APIRouter(tags=["users"])

INCLUDE_DESCRIPTION = (
    "Comma-separated relations to add to each user: `language`, `country`, "
    "`organizationalUnit`, `organizationalUnit.businessUnit` (which implies "
    "`organizationalUnit`)."
)


# The OpenAPI description of ``include``: a comma-separated list of relations.
INCLUDE_QUERY_PARAMETER: dict[str, Any] = {
    "schema": {
        "type": "array",
        "items": {"enum": [include.value for include in UserInclude]},
    },
    "style": "form",
    "explode": False,
}


def _code_and_name(code: str | None, name: str | None) -> dict[str, str] | None:
    if code is None or name is None:
        return None
    return {"code": code, "name": name}


def _user_resource(
    user: ExportedUser, includes: frozenset[UserInclude]
) -> dict[str, Any]:
    """Return the user's JSON object, in the field order of ``UserResource``.

    Relations that were not included are left out; one that the user lacks is
    null.
    """
    resource: dict[str, Any] = {
        "uuid": user.uuid,
        "cid": user.cid,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
    }
    if UserInclude.LANGUAGE in includes:
        resource["language"] = _code_and_name(user.language_code, user.language_name)
    if UserInclude.COUNTRY in includes:
        resource["country"] = _code_and_name(user.country_code, user.country_name)
    if UserInclude.ORGANIZATIONAL_UNIT in includes:
        resource["organizational_unit"] = _organizational_unit(user, includes)
    resource["enabled"] = 1 if user.enabled else 0
    return resource


def _organizational_unit(
    user: ExportedUser, includes: frozenset[UserInclude]
) -> dict[str, Any] | None:
    unit: dict[str, Any] | None = _code_and_name(
        user.organizational_unit_code, user.organizational_unit_name
    )
    if unit is None:
        # NOTE: the business unit is nested in the organizational unit, so a
        # user with a business unit but no organizational unit shows neither.
        return None
    if UserInclude.BUSINESS_UNIT in includes:
        unit["business_unit"] = _code_and_name(
            user.business_unit_code, user.business_unit_name
        )
    return unit


@router.get(
    "/users",
    summary="List the tenant's users, a page at a time",
    response_model=UserPage,
    responses=error_responses(
        400, 401, 422, status_400="`include` names a relation that is not allowed"
    ),
)
async def list_users(
    session: SessionDep,
    tenant: CurrentTenant,
    paging: PageQuery,
    include: Annotated[str | None, Query(description=INCLUDE_DESCRIPTION)] = None,
) -> JSONResponse:
    """Users in key order; deactivated users are left out."""
    export = await service.export_users(
        session,
        tenant_id=tenant.tenant_id,
        tenant_language=tenant.language_code,
        page=paging.request,
        indexes=paging.indexes,
        include=include,
    )
    items = [_user_resource(user, export.includes) for user in export.page.items]
    return page_response(items, total=export.page.total, parameters=paging)
