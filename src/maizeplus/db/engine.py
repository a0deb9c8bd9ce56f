"""Engines and sessions for the one database URL of the settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

SQLITE_BUSY_TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class DatabaseUrls:
    """The synchronous and asynchronous driver URLs of one database."""

    sync: URL
    async_: URL

    @property
    def is_sqlite(self) -> bool:
        return self.sync.get_backend_name() == "sqlite"


def resolve_urls(database_url: str) -> DatabaseUrls:
    """Map a plain database URL onto the drivers the service uses.

    ``sqlite:///file.db`` is served by sqlite3 and aiosqlite; ``postgresql://``
    (also written ``postgres://``) by psycopg 3, which has both interfaces.
    """
    if database_url.startswith("postgres://"):
        database_url = "postgresql://" + database_url.removeprefix("postgres://")
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return DatabaseUrls(
            sync=url.set(drivername="sqlite"),
            async_=url.set(drivername="sqlite+aiosqlite"),
        )
    if backend == "postgresql":
        psycopg_url = url.set(drivername="postgresql+psycopg")
        return DatabaseUrls(sync=psycopg_url, async_=psycopg_url)
    raise ValueError(
        f"unsupported database {backend!r} in MAIZEPLUS_DATABASE_URL; "
        "use sqlite:///PATH or postgresql://USER@HOST/NAME"
    )


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers go on while the import writes; the busy timeout makes a
    # second writer wait instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_sync_engine(database_url: str, *, pool: bool = True) -> Engine:
    """Create the synchronous engine used by migrations, the CLI and import jobs."""
    urls = resolve_urls(database_url)
    options: dict[str, Any] = {"future": True}
    if not pool:
        options["poolclass"] = NullPool
    if not urls.is_sqlite:
        options["pool_pre_ping"] = True
    engine = create_engine(urls.sync, **options)
    if urls.is_sqlite:
        event.listen(engine, "connect", _configure_sqlite)
    return engine


def create_api_engine(database_url: str, pool_size: int = 10) -> AsyncEngine:
    """Create the asynchronous engine that serves API requests."""
    urls = resolve_urls(database_url)
    options: dict[str, Any] = {}
    if not urls.is_sqlite:
        options.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
    engine = create_async_engine(urls.async_, **options)
    if urls.is_sqlite:
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
    return engine


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Create the factory of request sessions; objects stay readable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)
