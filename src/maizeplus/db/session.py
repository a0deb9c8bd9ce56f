"""The request-scoped database session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from maizeplus.db.engine import WRITE_TRANSACTION

# Methods whose routes only read. Every other method gets a session whose
# transactions take the SQLite write lock when they begin.
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Open one session for the request; the router commits, anything else rolls back."""
    factory: async_sessionmaker[AsyncSession] = (
        request.app.state.read_session_factory
        if request.method in READ_ONLY_METHODS
        else request.app.state.session_factory
    )
    async with factory() as session:
        yield session


async def begin_read_only(session: AsyncSession) -> None:
    """Begin the session's transaction without the SQLite write lock.

    For a transaction that only reads, in a writing request. In WAL mode such
    a transaction does not wait for the write lock. The call has no effect
    once the transaction has begun.
    """
    await session.connection(execution_options={WRITE_TRANSACTION: False})


SessionDep = Annotated[AsyncSession, Depends(get_session)]
