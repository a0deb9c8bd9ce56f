"""The catalogue and progress exports: one page of a tenant's rows, in key order."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.catalog import repository
from maizeplus.catalog.models import (
    Certification,
    CertificationProgress,
    Course,
    CourseProgress,
    Topic,
)
from maizeplus.catalog.repository import ExportedProgress, RowT
from maizeplus.kit.listing_index import ListingIndexCache, PageStart, read_seek_page
from maizeplus.kit.pagination import PageRequest, PageResult


async def _export_catalogue(
    session: AsyncSession,
    model: type[RowT],
    tenant_id: int,
    page: PageRequest,
    indexes: ListingIndexCache,
) -> PageResult[RowT]:
    listing = repository.catalogue_listing(model, tenant_id)

    async def read(start: PageStart) -> list[RowT]:
        return await repository.catalogue_page(session, model, listing, start)

    return await read_seek_page(session, indexes, listing, page, read)


async def export_topics(
    session: AsyncSession, tenant_id: int, page: PageRequest, indexes: ListingIndexCache
) -> PageResult[Topic]:
    """Read one page of the tenant's topics."""
    return await _export_catalogue(session, Topic, tenant_id, page, indexes)


async def export_courses(
    session: AsyncSession, tenant_id: int, page: PageRequest, indexes: ListingIndexCache
) -> PageResult[Course]:
    """Read one page of the tenant's courses."""
    return await _export_catalogue(session, Course, tenant_id, page, indexes)


async def export_certifications(
    session: AsyncSession, tenant_id: int, page: PageRequest, indexes: ListingIndexCache
) -> PageResult[Certification]:
    """Read one page of the tenant's certifications."""
    return await _export_catalogue(session, Certification, tenant_id, page, indexes)


async def _export_progress(
    session: AsyncSession,
    model: type[CourseProgress] | type[CertificationProgress],
    tenant_id: int,
    page: PageRequest,
    indexes: ListingIndexCache,
) -> PageResult[ExportedProgress]:
    listing = repository.progress_listing(model, tenant_id)

    async def read(start: PageStart) -> list[ExportedProgress]:
        return await repository.progress_page(session, model, listing, start)

    return await read_seek_page(session, indexes, listing, page, read)


async def export_course_progress(
    session: AsyncSession, tenant_id: int, page: PageRequest, indexes: ListingIndexCache
) -> PageResult[ExportedProgress]:
    """Read one page of course progress; deactivated users' rows are left out."""
    return await _export_progress(session, CourseProgress, tenant_id, page, indexes)


async def export_certification_progress(
    session: AsyncSession, tenant_id: int, page: PageRequest, indexes: ListingIndexCache
) -> PageResult[ExportedProgress]:
    """Read one page of certification progress; deactivated users' rows are left out."""
    return await _export_progress(
        session, CertificationProgress, tenant_id, page, indexes
    )
