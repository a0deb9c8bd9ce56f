"""HTTP routes of the catalogue and progress exports."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from maizeplus.auth.dependencies import CurrentTenant
from maizeplus.catalog import service
from maizeplus.catalog.repository import ExportedProgress
from maizeplus.catalog.schemas import (
    CertificationPage,
    CertificationProgressPage,
    CoursePage,
    CourseProgressPage,
    TopicPage,
)
from maizeplus.db.session import SessionDep
from maizeplus.kit.clock import format_resource_time
from maizeplus.kit.openapi import error_responses
from maizeplus.kit.page_api import PageQuery, page_response

router = APIRouter(tags=["catalogue"])

ERRORS = error_responses(401, 422)


@router.get(
    "/topics",
    summary="List the tenant's topics, a page at a time",
    response_model=TopicPage,
    responses=ERRORS,
)
async def list_topics(
    session: SessionDep, tenant: CurrentTenant, paging: PageQuery
) -> JSONResponse:
    """Topics in id order."""
    result = await service.export_topics(
        session, tenant.tenant_id, paging.request, paging.indexes
    )
    items = [{"id": topic.id, "name": topic.name} for topic in result.items]
    return page_response(items, total=result.total, parameters=paging)


@router.get(
    "/courses",
    summary="List the tenant's courses, a page at a time",
    response_model=CoursePage,
    responses=ERRORS,
)
async def list_courses(
    session: SessionDep, tenant: CurrentTenant, paging: PageQuery
) -> JSONResponse:
    """Courses in id order; ``duration`` is in minutes."""
    result = await service.export_courses(
        session, tenant.tenant_id, paging.request, paging.indexes
    )
    items = [
        {
            "id": course.id,
            "duration": course.duration,
            "level": course.level,
            "name": course.name,
            "description": course.description,
            "short_description": course.short_description,
            "topic_id": course.topic_id,
        }
        for course in result.items
    ]
    return page_response(items, total=result.total, parameters=paging)


@router.get(
    "/certifications",
    summary="List the tenant's certifications, a page at a time",
    response_model=CertificationPage,
    responses=ERRORS,
)
async def list_certifications(
    session: SessionDep, tenant: CurrentTenant, paging: PageQuery
) -> JSONResponse:
    """Certifications in id order."""
    result = await service.export_certifications(
        session, tenant.tenant_id, paging.request, paging.indexes
    )
    items = [{"id": item.id, "name": item.name} for item in result.items]
    return page_response(items, total=result.total, parameters=paging)


def _course_progress(row: ExportedProgress) -> dict[str, Any]:
    """Return the JSON object of a course progress, in ``CourseProgressResource`` order."""
    return {
        "user": {"uuid": row.user_uuid},
        "course_id": row.item_id,
        "started_at": format_resource_time(row.started_at) or "",
        "finished_at": format_resource_time(row.finished_at),
        "progress": row.progress,
    }


def _certification_progress(row: ExportedProgress) -> dict[str, Any]:
    """Return the JSON object of a certification progress, in its model's order."""
    return {
        "user": {"uuid": row.user_uuid},
        "certification_id": row.item_id,
        "started_at": format_resource_time(row.started_at) or "",
        "finished_at": format_resource_time(row.finished_at),
        "progress": row.progress,
        "score": row.score,
        "score_avg": None if row.score_avg is None else f"{row.score_avg:.2f}",
        "attempts": row.attempts,
    }


@router.get(
    "/progress-courses",
    summary="List the course progress of the tenant's users, a page at a time",
    response_model=CourseProgressPage,
    responses=ERRORS,
)
async def list_course_progress(
    session: SessionDep, tenant: CurrentTenant, paging: PageQuery
) -> JSONResponse:
    """Course progress in id order; join ``user.uuid`` with the users export."""
    result = await service.export_course_progress(
        session, tenant.tenant_id, paging.request, paging.indexes
    )
    items = [_course_progress(row) for row in result.items]
    return page_response(items, total=result.total, parameters=paging)


@router.get(
    "/progress-certifications",
    summary="List the certification progress of the tenant's users, a page at a time",
    response_model=CertificationProgressPage,
    responses=ERRORS,
)
async def list_certification_progress(
    session: SessionDep, tenant: CurrentTenant, paging: PageQuery
) -> JSONResponse:
    """Certification progress in id order; join ``user.uuid`` with the users export."""
    result = await service.export_certification_progress(
        session, tenant.tenant_id, paging.request, paging.indexes
    )
    items = [_certification_progress(row) for row in result.items]
    return page_response(items, total=result.total, parameters=paging)
