"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from maizeplus import __version__
from maizeplus.auth.router import router as auth_router
from maizeplus.auth.throttle import enforce_api_rate_limit
from maizeplus.catalog.router import router as catalog_router
from maizeplus.db.engine import (
    create_api_engine,
    create_session_factory,
    resolve_urls,
)
from maizeplus.imports.router import router as imports_router
from maizeplus.jobs.embedded import EmbeddedRunner
from maizeplus.jobs.queue import job_queue_for
from maizeplus.jobs.runner import JobRunner, NoRunner
from maizeplus.jobs.worker import WorkerThread
from maizeplus.kit.body_limit import BodySizeLimit
from maizeplus.kit.cache_headers import NoStore
from maizeplus.kit.client_address import ClientAddress
from maizeplus.kit.errors import install_error_handlers
from maizeplus.kit.health import router as health_router
from maizeplus.kit.listing_index import ListingIndexCache
from maizeplus.kit.metrics import RequestMetrics
from maizeplus.kit.openapi import complete_openapi, error_responses
from maizeplus.kit.page_api import PAGE_QUERY_PARAMETERS
from maizeplus.kit.rate_limit import RateLimiter, RateLimitHeaders
from maizeplus.kit.readiness import ReadinessProbe
from maizeplus.settings import Settings, get_settings
from maizeplus.users.deactivation_router import router as users_deactivation_router
from maizeplus.users.router import INCLUDE_QUERY_PARAMETER
from maizeplus.users.router import router as users_router

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
OAUTH_PREFIX = "/oauth/"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application for one set of settings (by default, the environment's)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_api_engine(settings.database_url, settings.database_pool_size)
        app.state.engine = engine
        app.state.session_factory = create_session_factory(engine)
        app.state.read_session_factory = create_session_factory(engine, writes=False)
        app.state.readiness = ReadinessProbe(engine)
        app.state.job_queue = job_queue_for(settings.database_url)
        app.state.rate_limiter = RateLimiter.create(
            settings.rate_limit_redis_url, settings.rate_limit_redis_prefix
        )
        runner = _start_runner(settings)
        app.state.runner = runner
        logger.info(
            "server.started", extra={"embedded_worker": settings.embedded_worker}
        )
        try:
            yield
        finally:
            runner.stop()
            await app.state.rate_limiter.close()
            await engine.dispose()
            logger.info("server.stopped")

    app = FastAPI(
        title="maize.PLUS Open API",
        version=__version__,
        summary="Provision learners in bulk and export users, courses and progress.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.listing_indexes = ListingIndexCache()
    # Each middleware added wraps the ones added before it.
    app.add_middleware(BodySizeLimit, limit=lambda: settings.import_max_upload_bytes)
    app.add_middleware(RateLimitHeaders)
    app.add_middleware(NoStore, path_prefix=OAUTH_PREFIX)
    app.add_middleware(ClientAddress, trusted_proxies=settings.trusted_proxies)
    # Added last, so it is the outermost and also counts the 413s.
    app.add_middleware(RequestMetrics)
    install_error_handlers(app)
    complete_openapi(app, {**PAGE_QUERY_PARAMETERS, "include": INCLUDE_QUERY_PARAMETER})
    app.include_router(health_router)
    app.include_router(auth_router)
    # Every /api/v1 route counts against the rate limit of its access token.
    api_dependencies = [Depends(enforce_api_rate_limit)]
    for router in (
        users_router,
        users_deactivation_router,
        catalog_router,
        imports_router,
    ):
        app.include_router(
            router,
            prefix=API_PREFIX,
            dependencies=api_dependencies,
            responses=error_responses(429),
        )
    return app


def _start_runner(settings: Settings) -> JobRunner:
    """Start this process's share of the import work, if it has one.

    On SQLite the embedded runner finds jobs in their table; on PostgreSQL the
    server runs one queue worker like ``maizeplus worker`` does.
    """
    runner: JobRunner
    if not settings.embedded_worker:
        runner = NoRunner()
    elif resolve_urls(settings.database_url).is_sqlite:
        runner = EmbeddedRunner(settings)
    else:
        runner = WorkerThread(settings)
    runner.start()
    return runner
