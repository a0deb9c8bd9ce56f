"""Operations endpoints: liveness, readiness and Prometheus metrics.

None of them takes a token, so expose them only where the operators' tools
reach them (docs/operations.md).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.db.session import SessionDep
from maizeplus.imports import store
from maizeplus.kit.errors import is_database_unavailable
from maizeplus.kit.metrics import render_metrics
from maizeplus.kit.readiness import ReadinessProbe

router = APIRouter(tags=["operations"])


@router.get("/health", summary="Liveness: the process is up")
async def health() -> dict[str, str]:
    return {"status": "ok"}


class ReadinessBody(BaseModel):
    """The outcome of the readiness check; a 503 adds why, in the error envelope."""

    status: Literal["ok", "unavailable"]
    reason: str | None = Field(
        default=None,
        description="Why the database is not ready; only with status unavailable",
        examples=["the database is not reachable (OperationalError)"],
    )
    message: str | None = Field(
        default=None,
        description="The reason as the message of the error envelope; only with "
        "status unavailable",
    )


@router.get(
    "/ready",
    summary="Readiness: the database answers and its schema is the newest",
    response_model=ReadinessBody,
    responses={
        503: {
            "model": ReadinessBody,
            "description": "The database is not reachable, or its schema is not "
            "at the newest migration; `reason` says which",
        }
    },
)
async def ready(request: Request) -> JSONResponse:
    probe: ReadinessProbe = request.app.state.readiness
    readiness = await probe.check()
    if not readiness.ready:
        return JSONResponse(
            {
                "status": "unavailable",
                "reason": readiness.reason,
                "message": f"The service is not ready: {readiness.reason}.",
            },
            status_code=503,
        )
    return JSONResponse({"status": "ok"})


@router.get("/metrics", include_in_schema=False)
async def metrics(session: SessionDep) -> Response:
    return Response(
        render_metrics(await _import_job_counts(session)),
        media_type=CONTENT_TYPE_LATEST,
    )


async def _import_job_counts(session: AsyncSession) -> dict[str, int]:
    # During a database outage the scrape still returns the request metrics,
    # which show the outage; only the job counts are left out.
    try:
        return await store.count_jobs_by_status(session)
    except SQLAlchemyError as error:
        if not is_database_unavailable(error):
            raise
        return {}
