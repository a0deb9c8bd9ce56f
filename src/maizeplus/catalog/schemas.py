"""Response models of the catalogue and progress exports."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from maizeplus.kit.page_api import Page

TIMESTAMP_EXAMPLE = "2022-11-08T18:39:54.000000Z"


class TopicResource(BaseModel):
    """A topic that groups courses."""

    id: int
    name: str


class CourseResource(BaseModel):
    """A course of the catalogue."""

    id: int
    duration: int | None = Field(description="Length of the course in minutes.")
    level: str | None = Field(examples=["basic"])
    name: str
    description: str | None
    short_description: str | None
    topic_id: int | None


class CertificationResource(BaseModel):
    """A certification that users earn by passing its test."""

    id: int
    name: str


class ProgressUser(BaseModel):
    """The user of a progress row; join it with the users export by ``uuid``."""

    uuid: str


class CourseProgressResource(BaseModel):
    """How far one user has come in one course."""

    user: ProgressUser
    course_id: int
    started_at: str = Field(examples=[TIMESTAMP_EXAMPLE])
    finished_at: str | None = Field(
        examples=[TIMESTAMP_EXAMPLE], description="Null while the course is started."
    )
    progress: Literal["started", "completed"]


class CertificationProgressResource(BaseModel):
    """One user's attempts at one certification."""

    user: ProgressUser
    certification_id: int
    started_at: str = Field(examples=[TIMESTAMP_EXAMPLE])
    finished_at: str | None = Field(
        examples=[TIMESTAMP_EXAMPLE],
        description="Null while the certification is started.",
    )
    progress: Literal["started", "completed"]
    score: int | None = Field(
        description="The score of the last attempt; null before any."
    )
    score_avg: str | None = Field(
        examples=["80.00"],
        description="The average score of all attempts, with two decimals; "
        "null before any.",
    )
    attempts: int = Field(description="How many times the user took the test.")


class TopicPage(Page[TopicResource]):
    """One page of the tenant's topics."""


class CoursePage(Page[CourseResource]):
    """One page of the tenant's courses."""


class CertificationPage(Page[CertificationResource]):
    """One page of the tenant's certifications."""


class CourseProgressPage(Page[CourseProgressResource]):
    """One page of the course progress of the tenant's users."""


class CertificationProgressPage(Page[CertificationProgressResource]):
    """One page of the certification progress of the tenant's users."""
