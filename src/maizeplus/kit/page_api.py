"""The HTTP side of paging: the ``page``/``limit`` dependency and the page models.

``parse_page_request`` and ``paginator_body`` in ``kit.pagination`` hold the
rules; this module binds them to a request and describes the body in OpenAPI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from maizeplus.kit.listing_index import ListingIndexCache
from maizeplus.kit.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_PAGE,
    PageLinks,
    PageRequest,
    paginator_body,
    parse_page_request,
)
from maizeplus.kit.urls import absolute_path

ItemT = TypeVar("ItemT", bound=BaseModel)


@dataclass(frozen=True)
class PageParameters:
    """A validated page request, the links builder for the request's URL, and
    the process's cache of listing indexes that exports seek with."""

    request: PageRequest
    links: PageLinks
    indexes: ListingIndexCache


async def page_parameters(
    request: Request,
    page: Annotated[
        str | None,
        Query(description="Page number: an integer from 1. Default 1."),
    ] = None,
    limit: Annotated[
        str | None,
        Query(description="Page size: an integer from 1 to 100. Default 48."),
    ] = None,
    x_is_sticky_connection: Annotated[
        str | None,
        Header(description="Accepted and ignored, for clients of the original API."),
    ] = None,
) -> PageParameters:
    """Validate ``page`` and ``limit`` (a 422 naming the parameter if invalid).

    They are declared as strings so that FastAPI does not reject them in its own
    error shape before ``parse_page_request`` applies the contract's rules.
    """
    return PageParameters(
        request=parse_page_request(page, limit),
        links=PageLinks(
            absolute_path(request, request.url.path),
            request.query_params.multi_items(),
        ),
        indexes=request.app.state.listing_indexes,
    )


PageQuery = Annotated[PageParameters, Depends(page_parameters)]

# OpenAPI fields of the page parameters: integers with their bounds, in place
# of the strings that ``page_parameters`` declares.
PAGE_QUERY_PARAMETERS: dict[str, dict[str, Any]] = {
    "page": {
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}
    },
    "limit": {
        "schema": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_LIMIT,
            "default": DEFAULT_LIMIT,
        }
    },
}


class PageLinksModel(BaseModel):
    """The absolute URLs of the first, last, previous and next page."""

    first: str
    last: str
    prev: str | None
    next: str | None


class PageWindowLink(BaseModel):
    """One entry of ``meta.links``: a page number, a ``...`` gap, or previous/next."""

    url: str | None
    label: str = Field(examples=["« Previous", "1", "...", "Next »"])
    active: bool


class PageMeta(BaseModel):
    """The position of the page, as Laravel's length-aware paginator reports it."""

    current_page: int
    from_: int | None = Field(alias="from", description="Position of the first item.")
    last_page: int
    links: list[PageWindowLink]
    path: str
    per_page: int
    to: int | None = Field(description="Position of the last item; null when empty.")
    total: int


class Page(BaseModel, Generic[ItemT]):
    """One page of a list: its items, the page links and the paging metadata."""

    data: list[ItemT]
    links: PageLinksModel
    meta: PageMeta


def page_response(
    items: list[dict[str, Any]], *, total: int, parameters: PageParameters
) -> JSONResponse:
    """Render one page of items, already in their JSON form, as the paginator body.

    The page models describe the body in the OpenAPI document only: at a
    hundred users with every include, validating and dumping them took
    about a third of a request (py-spy, SQLite). The routers build each
    item's dictionary in the order of its model's fields, and the suite's
    response check compares every body with the document.
    """
    body = paginator_body(
        items,
        total=total,
        page=parameters.request,
        count=len(items),
        links=parameters.links,
    )
    return JSONResponse(body)
