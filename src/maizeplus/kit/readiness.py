"""Readiness: the database responds and its schema is at the newest migration."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from maizeplus.db.migrate import current_revision, head_revision
from maizeplus.kit.errors import database_error_summary, is_database_unavailable

logger = logging.getLogger(__name__)

# A healthy database returns this one query in milliseconds, so the timeout
# is meant for a database that is hung or overloaded.
READY_TIMEOUT_SECONDS = 5.0

UPGRADE_HINT = "run maizeplus db upgrade"


@dataclass(frozen=True)
class Readiness:
    """The outcome of one readiness check.

    ``reason`` goes into the HTTP response; ``detail`` names the driver
    error for the log only, since the probe endpoint needs no credentials.
    """

    ready: bool
    reason: str | None = None
    detail: dict[str, str] | None = None


async def check_readiness(
    engine: AsyncEngine, timeout: float = READY_TIMEOUT_SECONDS
) -> Readiness:
    """Check that the database responds within ``timeout`` seconds and is migrated."""
    try:
        async with asyncio.timeout(timeout), engine.connect() as connection:
            current = await connection.run_sync(current_revision)
    except TimeoutError:
        return Readiness(False, f"the database check timed out after {timeout:g} s")
    except SQLAlchemyError as error:
        problem = (
            "the database is not reachable"
            if is_database_unavailable(error)
            else "the database check failed"
        )
        summary = database_error_summary(error)
        return Readiness(False, f"{problem} ({summary['error']})", summary)
    head = head_revision()
    if current is None:
        return Readiness(False, f"the database has no schema; {UPGRADE_HINT}")
    if current != head:
        return Readiness(
            False,
            f"the schema is at migration {current}, this version needs {head}; "
            f"{UPGRADE_HINT}",
        )
    return Readiness(True)


class ReadinessProbe:
    """A readiness check that logs each change of its outcome, not every probe."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._last: tuple[bool, str | None] | None = None

    async def check(self) -> Readiness:
        readiness = await check_readiness(self._engine)
        outcome = (readiness.ready, readiness.reason)
        if outcome != self._last:
            self._last = outcome
            if readiness.ready:
                logger.info("readiness.ready")
            else:
                logger.warning(
                    "readiness.unready",
                    extra={"reason": readiness.reason, **(readiness.detail or {})},
                )
        return readiness
