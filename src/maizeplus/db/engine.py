"""Engines and sessions for the one database URL of the settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

SQLITE_BUSY_TIMEOUT_MS = 30_000
# libpq waits forever for a server that accepts the TCP connection and then
# sends nothing, such as a hung host. The timeout bounds each attempt, so the
# request gets a 503 and the import runner tries again.
POSTGRES_CONNECT_TIMEOUT_SECONDS = 10


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


# A connection execution option. When true, a transaction on SQLite starts with
# BEGIN IMMEDIATE, which takes the write lock at once. When false, it starts
# with a deferred BEGIN. Without the option, the engine's default applies.
WRITE_TRANSACTION = "maizeplus_write_transaction"


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy emits BEGIN itself (see _install_sqlite_hooks), so the driver
    # must not. isolation_level=None turns off the legacy transaction handling
    # of sqlite3, which aiosqlite wraps. The pragmas then run outside any
    # transaction, where foreign_keys and journal_mode take effect.
    dbapi_connection.isolation_level = None
    # WAL lets readers go on while the import writes; the busy timeout makes a
    # second writer wait instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _install_sqlite_hooks(engine: Engine, *, writes_by_default: bool) -> None:
    def begin(connection: Connection) -> None:
        # A deferred transaction that reads and then writes must upgrade its
        # read lock. If another connection committed in between, SQLite fails
        # the write at once with SQLITE_BUSY ("database is locked"), and the
        # busy timeout does not help. BEGIN IMMEDIATE takes the write lock
        # first, waiting up to the busy timeout, so a writer that gets the lock
        # cannot fail on it later. A transaction that only reads can stay
        # deferred, because in WAL mode it does not wait for the write lock.
        options = connection.get_execution_options()
        if options.get(WRITE_TRANSACTION, writes_by_default):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")

    event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "begin", begin)


def create_sync_engine(
    database_url: str,
    *,
    pool: bool = True,
    pool_size: int | None = None,
    sqlite_cache_mib: int | None = None,
) -> Engine:
    """Create the synchronous engine used by migrations and import jobs.

    On SQLite every transaction starts with BEGIN IMMEDIATE, unless a
    connection sets the ``WRITE_TRANSACTION`` option to false, and
    ``sqlite_cache_mib`` sets each connection's page cache. ``pool_size`` sets
    the PostgreSQL connections kept open (SQLAlchemy's default is 5).
    """
    urls = resolve_urls(database_url)
    options: dict[str, Any] = {"future": True}
    if not pool:
        options["poolclass"] = NullPool
    if not urls.is_sqlite:
        if pool and pool_size is not None:
            options["pool_size"] = pool_size
        options["pool_pre_ping"] = True
        options["connect_args"] = {"connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS}
    engine = create_engine(urls.sync, **options)
    if urls.is_sqlite:
        # Import jobs and migrations write in most of their transactions.
        _install_sqlite_hooks(engine, writes_by_default=True)
        if sqlite_cache_mib is not None:
            _set_sqlite_cache(engine, sqlite_cache_mib)
    return engine


def _set_sqlite_cache(engine: Engine, mebibytes: int) -> None:
    # A chunk of new users touches pages all over the email and cid indexes;
    # SQLite's default cache of 2 MB rereads and rewrites them for each chunk.
    def set_cache(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA cache_size=-{int(mebibytes) * 1024}")
        cursor.close()

    event.listen(engine, "connect", set_cache)


def create_api_engine(database_url: str, pool_size: int = 10) -> AsyncEngine:
    """Create the asynchronous engine that serves API requests.

    On SQLite its transactions are deferred, so readers do not wait for the
    write lock. ``for_writing`` returns the engine whose transactions take it.
    """
    urls = resolve_urls(database_url)
    options: dict[str, Any] = {}
    if not urls.is_sqlite:
        options.update(
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            connect_args={"connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS},
        )
    engine = create_async_engine(urls.async_, **options)
    if urls.is_sqlite:
        _install_sqlite_hooks(engine.sync_engine, writes_by_default=False)
    return engine


def for_writing(engine: AsyncEngine) -> AsyncEngine:
    """Return a view of ``engine`` whose transactions start BEGIN IMMEDIATE on SQLite.

    The view shares the engine's pool. PostgreSQL ignores the option.
    """
    return engine.execution_options(**{WRITE_TRANSACTION: True})


def create_session_factory(
    engine: AsyncEngine, *, writes: bool = True
) -> async_sessionmaker[AsyncSession]:
    """Create a factory of sessions whose objects stay readable after commit.

    With ``writes`` (the default) each transaction takes the SQLite write lock
    when it begins; a factory for read-only work passes ``writes=False``.
    """
    bind = for_writing(engine) if writes else engine
    return async_sessionmaker(bind, expire_on_commit=False)
