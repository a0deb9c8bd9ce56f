"""HTTP routes of imports: upload a file, follow its job, list its row errors."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from maizeplus.auth.dependencies import CurrentTenant
from maizeplus.db.session import SessionDep
from maizeplus.imports import service
from maizeplus.imports.errors import UploadRejected
from maizeplus.imports.schemas import ImportJobBody, RowErrorPage
from maizeplus.kit.forms import read_form
from maizeplus.kit.openapi import error_responses
from maizeplus.kit.page_api import PageQuery
from maizeplus.kit.pagination import paginator_body
from maizeplus.kit.urls import absolute_path

router = APIRouter(tags=["users management"])

# Form fields besides the file are ignored, but a request with thousands of
# them is rejected by the multipart parser, with a 422 on file, before it
# reaches the service.
MAX_FORM_FIELDS = 50
MAX_FORM_FILES = 5

JobReference = Annotated[
    str,
    Path(
        description="The job's uuid, as the import endpoint returned it, or `latest` "
        "for the tenant's newest job",
        max_length=64,
    ),
]

_ERRORS = error_responses(401, 404, status_404="No job of this tenant has that uuid")

# OpenAPI links from an accepted upload to its job, which clients and API
# testers follow with the job's uuid.
_JOB_LINKS = {
    name: {
        "operationRef": f"#/paths/~1api~1v1~1import~1{{reference}}~1{step}/get",
        "parameters": {"reference": "$response.body#/data/uuid"},
    }
    for name, step in (("ImportStatus", "status"), ("ImportErrors", "errors"))
}


@router.post(
    "/import",
    status_code=202,
    response_model=ImportJobBody,
    summary="Upload a CSV or XLSX file of users to import in the background",
    responses={
        202: {"links": _JOB_LINKS},
        **error_responses(
            401,
            413,
            422,
            status_413="The request body is over the upload limit",
            status_422="The file is missing, empty, too large, or neither CSV nor "
            "XLSX, or the form has more parts than allowed",
        ),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                }
            },
        }
    },
)
async def upload_users_file(
    request: Request, tenant: CurrentTenant, session: SessionDep
) -> JSONResponse:
    settings = request.app.state.settings
    # NOTE: Starlette spools a file part of over 1 MiB to the system's
    # temporary folder (TMPDIR), not to import_work_dir, while it reads it.
    async with read_form(
        request, "file", max_files=MAX_FORM_FILES, max_fields=MAX_FORM_FIELDS
    ) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise UploadRejected("The file field is required.")
        job = await service.accept_upload(
            session,
            tenant,
            upload.file,
            upload.filename,
            settings.import_max_upload_bytes,
            request.app.state.job_queue,
        )
        await session.commit()
    request.app.state.runner.submit(job.tenant_id, job.id)
    status_url = absolute_path(request, f"/api/v1/import/{job.uuid}/status")
    return JSONResponse(
        {"data": service.job_resource(job)},
        status_code=202,
        headers={"Location": status_url},
    )


@router.get(
    "/import/{reference}/status",
    response_model=ImportJobBody,
    summary="The state and row counts of an import job",
    responses=_ERRORS,
)
async def import_status(
    reference: JobReference, tenant: CurrentTenant, session: SessionDep
) -> dict[str, Any]:
    job = await service.get_job(session, tenant, reference)
    return {"data": service.job_resource(job)}


@router.get(
    "/import/{reference}/errors",
    response_model=RowErrorPage,
    response_model_by_alias=True,
    summary="The rows of an import job that were reported, in row order, a page at a time",
    responses=error_responses(
        401, 404, 422, status_404="No job of this tenant has that uuid"
    ),
)
async def import_errors(
    reference: JobReference,
    tenant: CurrentTenant,
    session: SessionDep,
    paging: PageQuery,
) -> JSONResponse:
    _job, total, errors = await service.page_of_errors(
        session, tenant, reference, paging.request
    )
    body = paginator_body(
        {"errors": errors},
        total=total,
        page=paging.request,
        count=len(errors),
        links=paging.links,
    )
    return JSONResponse(body)
