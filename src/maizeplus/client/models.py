"""Pydantic models of the API's responses.

The models follow the shapes of the API contract and keep any field that a
server adds (``extra="allow"``), so they read both this project's server and
the original service. Fields that only this project's server sends, such as
an import job's row counts, are optional. Timestamps are timezone-aware UTC
datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer

# The two timestamp formats of the API contract, both in UTC.
RESOURCE_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # 2022-11-08T18:39:54.000000Z
VALIDATION_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # 2022-11-08 18:39:54


def _as_utc(value: datetime) -> datetime:
    # validated_at has no zone but is UTC, like every time of the API.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


# Serialized back in the API's own format, so a dumped model matches the response.
UtcDatetime = Annotated[
    datetime,
    AfterValidator(_as_utc),
    PlainSerializer(
        lambda value: value.strftime(RESOURCE_TIME_FORMAT), when_used="json"
    ),
]
ValidationDatetime = Annotated[
    datetime,
    AfterValidator(_as_utc),
    PlainSerializer(
        lambda value: value.strftime(VALIDATION_TIME_FORMAT), when_used="json"
    ),
]


class ApiModel(BaseModel):
    """Base of the response models: unknown fields are kept, not rejected."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Token(ApiModel):
    """A token response of ``POST /oauth/token`` (RFC 6749 section 5.1)."""

    token_type: str
    expires_in: int = Field(description="Seconds until the access token expires.")
    access_token: str = Field(repr=False)
    refresh_token: str | None = Field(default=None, repr=False)


class JobStatus(StrEnum):
    """The states of an import job."""

    RUNNING = "running"
    COMPLETED = "completed"
    COMPLETED_WITH_ERRORS = "completed_with_errors"
    FAILED = "failed"


FINISHED_STATUSES = frozenset(
    {JobStatus.COMPLETED, JobStatus.COMPLETED_WITH_ERRORS, JobStatus.FAILED}
)


class ImportSummary(ApiModel):
    """Row counts of an import job so far (this project's server only)."""

    total_rows: int | None = None
    processed_rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    created_disabled: int = 0


class ImportFile(ApiModel):
    """The uploaded file as the server read it (this project's server only)."""

    name: str | None = None
    format: str | None = None
    size: int | None = None
    encoding: str | None = None
    separator: str | None = None


class ImportJob(ApiModel):
    """An import job as the upload and status endpoints return it.

    ``status`` is a string, not a ``JobStatus``, so that a status added by a
    newer server does not fail parsing. ``message``, ``percent_done``,
    ``summary`` and ``file`` are None when the server does not send them.
    """

    uuid: str
    status: str
    started_at: UtcDatetime
    finished_at: UtcDatetime | None = None
    message: str | None = None
    percent_done: int | None = None
    summary: ImportSummary | None = None
    file: ImportFile | None = None

    @property
    def finished(self) -> bool:
        """Whether the job has reached one of the three final states."""
        return self.status in FINISHED_STATUSES


class RowError(ApiModel):
    """The failing rules of one row of an import file; the header is row 1."""

    row: int
    errors: dict[str, list[str]]
    validated_at: ValidationDatetime


class PageLinks(ApiModel):
    """The absolute URLs of the first, last, previous and next page."""

    first: str | None = None
    last: str | None = None
    prev: str | None = None
    next: str | None = None


class PageWindowLink(ApiModel):
    """One entry of ``meta.links``: a page number, a ``...`` gap, or previous/next."""

    url: str | None = None
    label: str
    active: bool = False


class PageMeta(ApiModel):
    """The position of a page, as Laravel's length-aware paginator reports it."""

    current_page: int
    from_: int | None = Field(default=None, alias="from")
    last_page: int
    links: list[PageWindowLink] = Field(default_factory=list)
    path: str | None = None
    per_page: int
    to: int | None = None
    total: int


ItemT = TypeVar("ItemT", bound=BaseModel)


class Page(ApiModel, Generic[ItemT]):
    """One page of an export: its items, the page links and the paging metadata."""

    data: list[ItemT]
    links: PageLinks
    meta: PageMeta


class RowErrorList(ApiModel):
    """The ``data`` of a page of row errors, which wraps the list in ``errors``."""

    errors: list[RowError]


class RowErrorPage(ApiModel):
    """One page of an import job's row errors, in row order."""

    data: RowErrorList
    links: PageLinks
    meta: PageMeta


class Language(ApiModel):
    """A language, named in that language (``it`` is ``Italiano``)."""

    code: str
    name: str


class Country(ApiModel):
    """A country with its English name."""

    code: str
    name: str


class BusinessUnit(ApiModel):
    """A business unit of the tenant."""

    code: str
    name: str


class OrganizationalUnit(ApiModel):
    """An organizational unit; ``business_unit`` is set only with that include."""

    code: str
    name: str
    business_unit: BusinessUnit | None = None


class User(ApiModel):
    """A user of the users export.

    ``language``, ``country`` and ``organizational_unit`` are None when they
    were not included, and also when the user has none.
    """

    uuid: str
    cid: str | None = None
    first_name: str
    last_name: str
    email: str
    language: Language | None = None
    country: Country | None = None
    organizational_unit: OrganizationalUnit | None = None
    enabled: int = Field(description="1 or 0.")


class Topic(ApiModel):
    """A topic that groups courses."""

    id: int
    name: str


class Course(ApiModel):
    """A course of the catalogue; ``duration`` is in minutes."""

    id: int
    duration: int | None = None
    level: str | None = None
    name: str
    description: str | None = None
    short_description: str | None = None
    topic_id: int | None = None


class Certification(ApiModel):
    """A certification that users earn by passing its test."""

    id: int
    name: str


class ProgressUser(ApiModel):
    """The user of a progress row; join it with the users export by ``uuid``."""

    uuid: str


class CourseProgress(ApiModel):
    """How far one user has come in one course; ``finished_at`` is None while started."""

    user: ProgressUser
    course_id: int
    started_at: UtcDatetime
    finished_at: UtcDatetime | None = None
    progress: str = Field(description="started or completed")


class CertificationProgress(ApiModel):
    """One user's attempts at one certification.

    ``score`` is the last attempt's score and ``score_avg`` the average of all
    attempts as a string with two decimals (``"80.00"``). Both are None before
    the first attempt.
    """

    user: ProgressUser
    certification_id: int
    started_at: UtcDatetime
    finished_at: UtcDatetime | None = None
    progress: str = Field(description="started or completed")
    score: int | None = None
    score_avg: str | None = None
    attempts: int = 0


class Resource(StrEnum):
    """The exports, named by their path under ``/api/v1``."""

    USERS = "users"
    TOPICS = "topics"
    COURSES = "courses"
    COURSE_PROGRESS = "progress-courses"
    CERTIFICATIONS = "certifications"
    CERTIFICATION_PROGRESS = "progress-certifications"


RESOURCE_MODELS: dict[Resource, type[ApiModel]] = {
    Resource.USERS: User,
    Resource.TOPICS: Topic,
    Resource.COURSES: Course,
    Resource.COURSE_PROGRESS: CourseProgress,
    Resource.CERTIFICATIONS: Certification,
    Resource.CERTIFICATION_PROGRESS: CertificationProgress,
}

USER_INCLUDES = (
    "language",
    "country",
    "organizationalUnit",
    "organizationalUnit.businessUnit",
)


def parse_page(resource: Resource, body: Any) -> Page[Any]:
    """Validate a page body of ``resource`` into a ``Page`` of its item model."""
    model = RESOURCE_MODELS[resource]
    return Page[model].model_validate(body)  # type: ignore[valid-type]
