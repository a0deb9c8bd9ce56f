"""Pages of long exports found by seeking to a known id, not by skipping rows.

With ``OFFSET``, the database walks every row before the page, so the last
page of a million users costs a million index entries, and ``meta.total``
costs a count of them all. Here each listing (one export of one tenant)
keeps, per process, its row count and the id at every ``ANCHOR_SPACING``-th
position, both read with one scan of its index. A page then starts at the
anchor before its first row and skips fewer than ``ANCHOR_SPACING`` rows.

The index is valid while the tenant's data versions of the tables that the
listing reads are unchanged; database triggers raise a version whenever
rows come or go (``DataVersion``). A request reads the versions first, so it
never pages with positions older than its own view of the data, except for
a write that commits between the two queries of one request, which shifts
that one page as an ``OFFSET`` query would.
"""

from __future__ import annotations

import asyncio
from array import array
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from maizeplus.kit.pagination import PageRequest, PageResult
from maizeplus.tenants.models import DataVersion

# Rows between two anchors. A page skips fewer rows than this, and a listing
# of a million rows keeps 10,000 anchors (80 KB).
ANCHOR_SPACING = 100
# Listings whose index a process keeps; the least recently used one goes first.
MAX_CACHED_LISTINGS = 512

ItemT = TypeVar("ItemT")


@dataclass(frozen=True)
class Listing:
    """The rows of one export of one tenant, in the order of their ``id`` column.

    ``ids`` selects the ``id`` of every listed row; ``tables`` are the tables
    whose versions decide whether a cached index still holds.
    """

    name: str
    tenant_id: int
    tables: tuple[str, ...]
    ids: Select[Any]
    id_column: ColumnElement[int] | InstrumentedAttribute[int]


@dataclass(frozen=True)
class PageStart:
    """Where a page begins: at or after ``first_id``, past ``skip`` rows."""

    first_id: int
    skip: int
    limit: int


@dataclass(frozen=True)
class _ListingIndex:
    versions: tuple[int, ...]
    total: int
    anchors: array[int]


class ListingIndexCache:
    """The indexes of the listings that this process has paged, by listing and tenant."""

    def __init__(self, max_listings: int = MAX_CACHED_LISTINGS) -> None:
        self._max_listings = max_listings
        self._indexes: OrderedDict[tuple[str, int], _ListingIndex] = OrderedDict()
        self._locks: dict[tuple[str, int], asyncio.Lock] = {}

    async def index_of(self, session: AsyncSession, listing: Listing) -> _ListingIndex:
        """Return the listing's index, built anew when its data versions changed."""
        key = (listing.name, listing.tenant_id)
        versions = await _read_versions(session, listing)
        cached = self._indexes.get(key)
        if cached is not None and cached.versions == versions:
            self._indexes.move_to_end(key)
            return cached
        # One request builds it while the others of this process wait.
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._indexes.get(key)
            if cached is None or cached.versions != versions:
                cached = await _build_index(session, listing, versions)
                self._store(key, cached)
        return cached

    def _store(self, key: tuple[str, int], index: _ListingIndex) -> None:
        self._indexes[key] = index
        self._indexes.move_to_end(key)
        while len(self._indexes) > self._max_listings:
            evicted, _ = self._indexes.popitem(last=False)
            self._locks.pop(evicted, None)


async def read_seek_page(
    session: AsyncSession,
    cache: ListingIndexCache,
    listing: Listing,
    page: PageRequest,
    read: Callable[[PageStart], Awaitable[list[ItemT]]],
) -> PageResult[ItemT]:
    """Read one page of the listing with ``read``, from the anchor before its first row.

    A page past the last is not read at all: it is empty.
    """
    index = await cache.index_of(session, listing)
    if page.offset >= index.total:
        return PageResult(items=[], total=index.total)
    anchor = page.offset // ANCHOR_SPACING
    start = PageStart(
        first_id=index.anchors[anchor],
        skip=page.offset - anchor * ANCHOR_SPACING,
        limit=page.limit,
    )
    return PageResult(items=await read(start), total=index.total)


def page_ids(listing: Listing, start: PageStart) -> Select[Any]:
    """Select the ids of one page: the listing's rows from ``start`` on."""
    return (
        listing.ids.where(listing.id_column >= start.first_id)
        .order_by(listing.id_column)
        .offset(start.skip)
        .limit(start.limit)
    )


async def _read_versions(session: AsyncSession, listing: Listing) -> tuple[int, ...]:
    rows = await session.execute(
        select(DataVersion.table_name, DataVersion.version).where(
            DataVersion.tenant_id == listing.tenant_id,
            DataVersion.table_name.in_(listing.tables),
        )
    )
    found: dict[str, int] = {table: version for table, version in rows}
    return tuple(found.get(table, 0) for table in listing.tables)


async def _build_index(
    session: AsyncSession, listing: Listing, versions: tuple[int, ...]
) -> _ListingIndex:
    """Count the listing's rows and take every ``ANCHOR_SPACING``-th id, in one scan."""
    numbered = listing.ids.add_columns(
        func.row_number().over(order_by=listing.id_column).label("position"),
        func.count().over().label("total"),
    ).subquery("numbered")
    rows = await session.execute(
        select(numbered.c.id, numbered.c.total)
        .where((numbered.c.position - 1) % ANCHOR_SPACING == 0)
        .order_by(numbered.c.position)
    )
    anchors: array[int] = array("q")
    total = 0
    for row_id, row_total in rows:
        anchors.append(row_id)
        total = row_total
    return _ListingIndex(versions=versions, total=int(total), anchors=anchors)
