"""Ids of tenant-owned rows, handed out in blocks from a per-tenant counter.

Tenant-owned tables key on ``(tenant_id, id)``. Neither SQLite nor a later
tenant-distributed PostgreSQL can fill such a key by itself, so ids come from
the ``id_counters`` row of the tenant and table, which a single ``UPDATE ...
RETURNING`` advances atomically.
"""

from __future__ import annotations

from sqlalchemy import Connection, insert, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from maizeplus.tenants.models import IdCounter


def _advance(tenant_id: int, table_name: str, count: int):  # type: ignore[no-untyped-def]
    return (
        update(IdCounter)
        .where(IdCounter.tenant_id == tenant_id, IdCounter.table_name == table_name)
        .values(next_id=IdCounter.next_id + count)
        .returning(IdCounter.next_id)
    )


async def allocate_ids(
    session: AsyncSession, tenant_id: int, table_name: str, count: int
) -> int:
    """Reserve ``count`` consecutive ids and return the first of them."""
    new_next = (await session.execute(_advance(tenant_id, table_name, count))).scalar()
    if new_next is None:
        await session.execute(
            insert(IdCounter).values(
                tenant_id=tenant_id, table_name=table_name, next_id=1
            )
        )
        new_next = (
            await session.execute(_advance(tenant_id, table_name, count))
        ).scalar_one()
    return int(new_next) - count


def allocate_ids_sync(
    connection: Connection | Session, tenant_id: int, table_name: str, count: int
) -> int:
    """Reserve ``count`` consecutive ids on a synchronous connection; return the first."""
    new_next = connection.execute(_advance(tenant_id, table_name, count)).scalar()
    if new_next is None:
        connection.execute(
            insert(IdCounter).values(
                tenant_id=tenant_id, table_name=table_name, next_id=1
            )
        )
        new_next = connection.execute(
            _advance(tenant_id, table_name, count)
        ).scalar_one()
    return int(new_next) - count


async def reserve_ids_through(
    session: AsyncSession, tenant_id: int, table_name: str, highest_id: int
) -> None:
    """Move the counter past an id that was written explicitly, e.g. from a catalogue file."""
    first = await allocate_ids(session, tenant_id, table_name, 0)
    if first <= highest_id:
        await allocate_ids(session, tenant_id, table_name, highest_id + 1 - first)
