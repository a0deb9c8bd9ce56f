"""Page parameters and the body of Laravel's length-aware paginator.

The exports and the import errors list share these rules: ``page`` is an integer
from 1 (default 1), ``limit`` an integer from 1 to 100 (default 48), and the
body carries ``data``, ``links`` and ``meta`` as Laravel renders them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import quote, urlencode

from maizeplus.kit.errors import ValidationFailed

DEFAULT_LIMIT = 48
MAX_LIMIT = 100
# Laravel's largest integer is PHP_INT_MAX; a page past it would only ever be
# empty, so bigger numbers are rejected rather than overflowing a query.
MAX_PAGE = 2**63 - 1
LINKS_ON_EACH_SIDE = 3
PREVIOUS_LABEL = "« Previous"
NEXT_LABEL = "Next »"

_INTEGER = re.compile(r"[+-]?[0-9]+")

ItemT = TypeVar("ItemT")


@dataclass(frozen=True)
class PageRequest:
    """A validated page number and page size."""

    page: int
    limit: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


def _integer_error(
    name: str, raw: str | None, maximum: int
) -> tuple[int | None, str | None]:
    if raw is None:
        return None, None
    text = raw.strip()
    if not _INTEGER.fullmatch(text):
        return None, f"The {name} field must be an integer."
    # int() rejects strings of more than 4300 digits (sys.int_info), so the
    # range of a long number is judged by its length before it is converted.
    digits = text.lstrip("+-").lstrip("0")
    if len(digits) > len(str(maximum)):
        value = -1 if text.startswith("-") else maximum + 1
    else:
        value = int(text)
    if value < 1:
        return None, f"The {name} field must be at least 1."
    if value > maximum:
        return None, f"The {name} field must not be greater than {maximum}."
    return value, None


def parse_page_request(page: str | None, limit: str | None) -> PageRequest:
    """Validate the raw ``page`` and ``limit`` query values.

    A parameter that is absent takes its default; one that is present but empty
    or not an integer in range is a 422 naming it.
    """
    errors: dict[str, list[str]] = {}
    page_value, page_error = _integer_error("page", page, MAX_PAGE)
    limit_value, limit_error = _integer_error("limit", limit, MAX_LIMIT)
    if page_error:
        errors["page"] = [page_error]
    if limit_error:
        errors["limit"] = [limit_error]
    if errors:
        raise ValidationFailed(errors)
    return PageRequest(page=page_value or 1, limit=limit_value or DEFAULT_LIMIT)


@dataclass(frozen=True)
class PageResult(Generic[ItemT]):
    """The items of one page and the number of items on all pages."""

    items: list[ItemT]
    total: int


async def read_page(
    page: PageRequest,
    count: Callable[[], Awaitable[int]],
    read: Callable[[int, int], Awaitable[list[ItemT]]],
) -> PageResult[ItemT]:
    """Count the items, then read the page with ``read(offset, limit)``.

    A page past the last is not read at all: it is empty, and its offset may
    be larger than a 64-bit database integer.
    """
    # NOTE: ``meta.total`` is counted on every request, which costs a scan of
    # the tenant's index; nothing caches it.
    total = await count()
    if page.offset >= total:
        return PageResult(items=[], total=total)
    return PageResult(items=await read(page.offset, page.limit), total=total)


@dataclass(frozen=True)
class PageLinks:
    """Builds the absolute page URLs that keep the request's other parameters."""

    path: str
    query: Sequence[tuple[str, str]]

    def url(self, page: int) -> str:
        # Laravel puts the kept parameters first and the page last, encoded as
        # RFC 3986 (so a comma in ``include`` becomes %2C).
        parameters = [(key, value) for key, value in self.query if key != "page"]
        parameters.append(("page", str(page)))
        return f"{self.path}?{urlencode(parameters, quote_via=quote, safe='')}"


def _page_window(current: int, last: int) -> list[int | None]:
    """Pages of ``meta.links`` in Laravel's UrlWindow order; ``None`` is a gap."""
    each_side = LINKS_ON_EACH_SIDE
    if last < each_side * 2 + 8:
        return list(range(1, last + 1))
    window = each_side + 4
    start, finish = [1, 2], [last - 1, last]
    if current <= window:
        return [*range(1, window + each_side + 1), None, *finish]
    if current > last - window:
        return [*start, None, *range(last - (window + each_side - 1), last + 1)]
    slider = range(current - each_side, current + each_side + 1)
    return [*start, None, *slider, None, *finish]


def paginator_body(
    data: Any, *, total: int, page: PageRequest, count: int, links: PageLinks
) -> dict[str, Any]:
    """Render ``data``, ``links`` and ``meta`` as Laravel's paginator does."""
    last_page = max(math.ceil(total / page.limit), 1)
    current = page.page
    first_item = page.offset + 1 if count else None
    last_item = page.offset + count if count else None
    previous_url = links.url(current - 1) if current > 1 else None
    next_url = links.url(current + 1) if current < last_page else None

    window_links: list[dict[str, Any]] = [
        {"url": previous_url, "label": PREVIOUS_LABEL, "active": False}
    ]
    for number in _page_window(current, last_page):
        if number is None:
            window_links.append({"url": None, "label": "...", "active": False})
        else:
            window_links.append(
                {
                    "url": links.url(number),
                    "label": str(number),
                    "active": number == current,
                }
            )
    window_links.append({"url": next_url, "label": NEXT_LABEL, "active": False})

    return {
        "data": data,
        "links": {
            "first": links.url(1),
            "last": links.url(last_page),
            "prev": previous_url,
            "next": next_url,
        },
        "meta": {
            "current_page": current,
            "from": first_item,
            "last_page": last_page,
            "links": window_links,
            "path": links.path,
            "per_page": page.limit,
            "to": last_item,
            "total": total,
        },
    }
