"""Response models of the users export."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from maizeplus.kit.page_api import Page


class LanguageResource(BaseModel):
    """A language, named in that language (``it`` is ``Italiano``)."""

    code: str = Field(examples=["it"])
    name: str = Field(examples=["Italiano"])


class CountryResource(BaseModel):
    """A country with its English name."""

    code: str = Field(examples=["IT"])
    name: str = Field(examples=["Italy"])


class BusinessUnitResource(BaseModel):
    """A business unit of the tenant."""

    code: str
    name: str


class OrganizationalUnitResource(BaseModel):
    """An organizational unit; ``business_unit`` is there with that include only."""

    code: str
    name: str
    business_unit: BusinessUnitResource | None = Field(
        default=None,
        description="The user's business unit, with `include=organizationalUnit"
        ".businessUnit`; null when the user has none.",
    )


class UserResource(BaseModel):
    """A user as the export shows it; each relation is there only when included.

    An included relation that the user lacks is null, except the language: a
    user without one is shown with the tenant's language.
    """

    uuid: str
    cid: str | None
    first_name: str
    last_name: str
    email: str
    language: LanguageResource | None = Field(
        default=None, description="With `include=language`."
    )
    country: CountryResource | None = Field(
        default=None, description="With `include=country`; null when the user has none."
    )
    organizational_unit: OrganizationalUnitResource | None = Field(
        default=None,
        description="With `include=organizationalUnit`; null when the user has none.",
    )
    enabled: Literal[0, 1]


class UserPage(Page[UserResource]):
    """One page of the tenant's users."""
