"""Every model of the service, imported so that the metadata is complete."""

from maizeplus.auth.models import AccessToken, ApiAccount, OAuthClient, RefreshToken
from maizeplus.catalog.models import (
    Certification,
    CertificationProgress,
    Course,
    CourseProgress,
    Topic,
)
from maizeplus.db.base import Base
from maizeplus.imports.models import ImportJob, ImportRowError, ImportUploadChunk
from maizeplus.reference.models import Country, Language
from maizeplus.tenants.models import (
    BusinessUnit,
    DataVersion,
    IdCounter,
    OrganizationalUnit,
    ReportReceiver,
    Tenant,
)
from maizeplus.users.models import User

__all__ = [
    "AccessToken",
    "ApiAccount",
    "Base",
    "BusinessUnit",
    "Certification",
    "CertificationProgress",
    "Country",
    "Course",
    "CourseProgress",
    "DataVersion",
    "IdCounter",
    "ImportJob",
    "ImportRowError",
    "ImportUploadChunk",
    "Language",
    "OAuthClient",
    "OrganizationalUnit",
    "RefreshToken",
    "ReportReceiver",
    "Tenant",
    "Topic",
    "User",
]
