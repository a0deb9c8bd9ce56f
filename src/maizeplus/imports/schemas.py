"""Response bodies of the import endpoints, as the OpenAPI document shows them."""

from __future__ import annotations

from pydantic import BaseModel, Field

from maizeplus.kit.page_api import PageLinksModel, PageMeta


class ImportSummary(BaseModel):
    """Row counts of a job so far."""

    total_rows: int | None = Field(
        description="Data rows in the file, once the file is read"
    )
    processed_rows: int = Field(description="Rows applied or reported so far")
    created: int
    updated: int
    unchanged: int
    failed: int = Field(description="Rows reported in the errors list")
    created_disabled: int = Field(
        description="New users created disabled because the tenant's user limit was reached"
    )


class ImportFile(BaseModel):
    """The uploaded file and the format, encoding and separator it was read with."""

    name: str | None
    format: str = Field(description="csv or xlsx")
    size: int = Field(description="Bytes")
    encoding: str | None = Field(description="Text encoding of a CSV file")
    separator: str | None = Field(description="Field separator of a CSV file")


class ImportJobResource(BaseModel):
    """An import job; the first four fields are the original service's."""

    uuid: str
    status: str = Field(
        description="running, completed, completed_with_errors or failed"
    )
    started_at: str
    finished_at: str | None
    message: str | None = Field(
        description="Why the job failed, or a note on its outcome"
    )
    percent_done: int
    summary: ImportSummary
    file: ImportFile


class ImportJobBody(BaseModel):
    data: ImportJobResource


class RowErrorResource(BaseModel):
    row: int = Field(
        description="Where the row starts in the file; the header is row 1"
    )
    errors: dict[str, list[str]]
    validated_at: str = Field(examples=["2022-11-08 18:39:54"])


class RowErrorList(BaseModel):
    errors: list[RowErrorResource]


class RowErrorPage(BaseModel):
    """One page of a job's row errors; ``data`` wraps the list as the original does."""

    data: RowErrorList
    links: PageLinksModel
    meta: PageMeta
