"""Pages of long exports found by seeking to a known id, not by skipping rows.

With ``OFFSET``, the database walks every row before the page, so the last
page of a million users costs a million index entries, and ``meta.total``
costs a count of them all. Here each listing (one export of one tenant)
keeps, per process, its row count and the id at every ``ANCHOR_SPACING``-th
position, both read with one scan of its index. A page then starts at the
anchor before its first row and skips fewer than ``ANCHOR_SPACING`` rows.

The index holds while, for each table that the listing reads, the tenant's
data version (``DataVersion``, raised by database triggers when rows come or
go other than at the end) and largest id are unchanged. When only the
largest ids grew, rows were appended, and the index is extended with the
listed rows after its last one; otherwise it is built anew. A request reads
this state first, so it never pages with positions older than its own view
of the data, except for a write that commits between the two queries of one
request, which shifts that one page as an ``OFFSET`` query would.
"""

from __future__ import annotations

import asyncio
from array import array
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, Table, func, or_, select
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

    ``ids`` selects the ``id`` of every listed row. ``tables`` are the tables
    whose versions and largest ids decide whether a cached index still
    holds, each keyed by ``(tenant_id, id)``.
    """

    name: str
    tenant_id: int
    tables: tuple[Table, ...]
    ids: Select[Any]
    id_column: ColumnElement[int] | InstrumentedAttribute[int]


@dataclass(frozen=True)
class PageStart:
    """Where a page begins: at or after ``first_id``, past ``skip`` rows."""

    first_id: int
    skip: int
    limit: int


@dataclass(frozen=True)
class _TableState:
    """A tenant's data versions and largest ids of the tables that a listing reads."""

    versions: tuple[int, ...]
    largest_ids: tuple[int, ...]


@dataclass(frozen=True)
class _ListingIndex:
    state: _TableState
    total: int
    anchors: array[int]
    last_id: int  # the id of the last listed row, or 0


class ListingIndexCache:
    """The indexes of the listings that this process has paged, by listing and tenant."""

    def __init__(self, max_listings: int = MAX_CACHED_LISTINGS) -> None:
        self._max_listings = max_listings
        self._indexes: OrderedDict[tuple[str, int], _ListingIndex] = OrderedDict()
        self._locks: dict[tuple[str, int], asyncio.Lock] = {}

    async def index_of(self, session: AsyncSession, listing: Listing) -> _ListingIndex:
        """Return the listing's index, extended or built anew when its data changed."""
        key = (listing.name, listing.tenant_id)
        state = await _read_state(session, listing)
        cached = self._indexes.get(key)
        if cached is not None and cached.state == state:
            self._indexes.move_to_end(key)
            return cached
        # One request updates it while the others of this process wait.
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._indexes.get(key)
            if cached is not None and cached.state == state:
                return cached
            if cached is not None and cached.state.versions == state.versions:
                cached = await _extend_index(session, listing, cached, state)
            else:
                cached = await _build_index(session, listing, state)
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


async def _read_state(session: AsyncSession, listing: Listing) -> _TableState:
    """Read the versions and largest ids of the listing's tables in one query."""
    columns: list[Any] = []
    for table in listing.tables:
        columns.append(
            select(DataVersion.version)
            .where(
                DataVersion.tenant_id == listing.tenant_id,
                DataVersion.table_name == table.name,
            )
            .scalar_subquery()
        )
        columns.append(
            select(func.max(table.c.id))
            .where(table.c.tenant_id == listing.tenant_id)
            .scalar_subquery()
        )
    row = (await session.execute(select(*columns))).one()
    return _TableState(
        versions=tuple(row[index] or 0 for index in range(0, len(row), 2)),
        largest_ids=tuple(row[index] or 0 for index in range(1, len(row), 2)),
    )


async def _numbered_ids(
    session: AsyncSession, ids: Select[Any], id_column: Any, first_position: int
) -> tuple[array[int], int, int]:
    """Return the anchors among ``ids``, their count and the last id, in one scan.

    The first selected row has position ``first_position`` in the listing.
    """
    numbered = ids.add_columns(
        func.row_number().over(order_by=id_column).label("number"),
        func.count().over().label("total"),
    ).subquery("numbered")
    is_anchor = (numbered.c.number - 1 + first_position) % ANCHOR_SPACING == 0
    rows = await session.execute(
        select(numbered.c.id, numbered.c.number, numbered.c.total)
        .where(or_(is_anchor, numbered.c.number == numbered.c.total))
        .order_by(numbered.c.number)
    )
    anchors: array[int] = array("q")
    total = last_id = 0
    for row_id, number, row_total in rows:
        if (number - 1 + first_position) % ANCHOR_SPACING == 0:
            anchors.append(row_id)
        # The last row comes last, whether it is an anchor or not.
        total, last_id = row_total, row_id
    return anchors, int(total), int(last_id)


async def _build_index(
    session: AsyncSession, listing: Listing, state: _TableState
) -> _ListingIndex:
    """Count the listing's rows and take every ``ANCHOR_SPACING``-th id."""
    anchors, total, last_id = await _numbered_ids(
        session, listing.ids, listing.id_column, 0
    )
    return _ListingIndex(state=state, total=total, anchors=anchors, last_id=last_id)


async def _extend_index(
    session: AsyncSession, listing: Listing, index: _ListingIndex, state: _TableState
) -> _ListingIndex:
    """Add the rows listed after the index's last one, which rows appended."""
    added = listing.ids.where(listing.id_column > index.last_id)
    anchors, total, last_id = await _numbered_ids(
        session, added, listing.id_column, index.total
    )
    return _ListingIndex(
        state=state,
        total=index.total + total,
        anchors=index.anchors + anchors,
        last_id=last_id or index.last_id,
    )
