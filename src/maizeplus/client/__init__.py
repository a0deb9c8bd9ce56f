"""A Python client of the maize.PLUS Open API, for this project's server or any other.

    from maizeplus.client import Client, Credentials

    credentials = Credentials(client_id="1", client_secret="...",
                              username="api@example.com", password="...")
    with Client("https://maize.example.com", credentials) as client:
        job = client.import_users("users.csv")
        job = client.wait_for_import(job)
        for error in client.iter_import_errors(job):
            print(error.row, error.errors)

``docs/client.md`` is the guide, ``docs/client-reference.md`` the reference.
"""

from maizeplus.client.auth import Credentials, StoredToken, TokenManager, TokenStore
from maizeplus.client.errors import (
    ApiError,
    BadRequestError,
    ConnectionFailedError,
    MaizeplusError,
    NotFoundError,
    OAuthError,
    PagingError,
    PayloadTooLargeError,
    RateLimitedError,
    ServerError,
    UnauthenticatedError,
    ValidationFailedError,
    WaitTimeoutError,
)
from maizeplus.client.models import (
    USER_INCLUDES,
    BusinessUnit,
    Certification,
    CertificationProgress,
    Country,
    Course,
    CourseProgress,
    ImportFile,
    ImportJob,
    ImportSummary,
    JobStatus,
    Language,
    OrganizationalUnit,
    Page,
    PageLinks,
    PageMeta,
    ProgressUser,
    Resource,
    RowError,
    RowErrorPage,
    Token,
    Topic,
    User,
)
from maizeplus.client.resources import AsyncClient, Client
from maizeplus.client.transport import RetryPolicy

__all__ = [
    "USER_INCLUDES",
    "ApiError",
    "AsyncClient",
    "BadRequestError",
    "BusinessUnit",
    "Certification",
    "CertificationProgress",
    "Client",
    "ConnectionFailedError",
    "Country",
    "Course",
    "CourseProgress",
    "Credentials",
    "ImportFile",
    "ImportJob",
    "ImportSummary",
    "JobStatus",
    "Language",
    "MaizeplusError",
    "NotFoundError",
    "OAuthError",
    "OrganizationalUnit",
    "Page",
    "PageLinks",
    "PageMeta",
    "PagingError",
    "PayloadTooLargeError",
    "ProgressUser",
    "RateLimitedError",
    "Resource",
    "RetryPolicy",
    "RowError",
    "RowErrorPage",
    "ServerError",
    "StoredToken",
    "Token",
    "TokenManager",
    "TokenStore",
    "Topic",
    "UnauthenticatedError",
    "User",
    "ValidationFailedError",
    "WaitTimeoutError",
]
