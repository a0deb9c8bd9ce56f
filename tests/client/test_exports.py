"""Export pages, page walks and deletion through the client, against the live server."""

from __future__ import annotations

from typing import Any

import pytest

from maizeplus.client import (
    USER_INCLUDES,
    BadRequestError,
    Client,
    NotFoundError,
    Resource,
    User,
    ValidationFailedError,
)
from tests.client.conftest import DEMO_USERS

PAGE_SIZE = 7


def item_key(item: Any) -> Any:
    """Return what identifies a row of any export."""
    if hasattr(item, "id"):
        return item.id
    if hasattr(item, "uuid"):
        return item.uuid
    target = getattr(item, "course_id", None) or getattr(item, "certification_id", None)
    return (item.user.uuid, target)


def test_every_export_walked_once(shared_client: Client) -> None:
    walks = {
        Resource.USERS: list(shared_client.iter_users(limit=PAGE_SIZE)),
        Resource.TOPICS: list(shared_client.iter_topics(limit=PAGE_SIZE)),
        Resource.COURSES: list(shared_client.iter_courses(limit=PAGE_SIZE)),
        Resource.COURSE_PROGRESS: list(
            shared_client.iter_progress_courses(limit=PAGE_SIZE)
        ),
        Resource.CERTIFICATIONS: list(
            shared_client.iter_certifications(limit=PAGE_SIZE)
        ),
        Resource.CERTIFICATION_PROGRESS: list(
            shared_client.iter_progress_certifications(limit=PAGE_SIZE)
        ),
    }

    for resource, items in walks.items():
        total = shared_client.export_page(resource, limit=1).meta.total
        keys = [item_key(item) for item in items]
        assert len(items) == total, resource
        assert len(set(keys)) == total, resource
    assert len(walks[Resource.USERS]) == DEMO_USERS
    assert len(walks[Resource.COURSE_PROGRESS]) > PAGE_SIZE


def test_page_methods_return_typed_pages(shared_client: Client) -> None:
    pages = {
        "users": shared_client.users(page=2, limit=PAGE_SIZE),
        "topics": shared_client.topics(limit=2),
        "courses": shared_client.courses(page=2, limit=5),
        "progress_courses": shared_client.progress_courses(limit=PAGE_SIZE),
        "certifications": shared_client.certifications(limit=PAGE_SIZE),
        "progress_certifications": shared_client.progress_certifications(
            limit=PAGE_SIZE
        ),
    }

    users = pages["users"]
    assert users.meta.current_page == 2
    assert users.meta.per_page == PAGE_SIZE
    assert users.meta.from_ == PAGE_SIZE + 1
    assert users.meta.total == DEMO_USERS
    assert users.links.prev is not None
    assert "limit=7" in (users.links.next or "")
    assert isinstance(users.data[0], User)
    assert users.data[0].language is None
    assert pages["topics"].data[0].name == "Leadership"
    assert pages["courses"].meta.current_page == 2
    progress = pages["progress_courses"].data[0]
    assert progress.progress in {"started", "completed"}
    assert progress.started_at.tzinfo is not None
    certification = pages["progress_certifications"].data[0]
    assert certification.attempts >= 0
    assert pages["certifications"].meta.total == 5


def test_users_with_every_include(shared_client: Client) -> None:
    users = list(shared_client.iter_users(include=USER_INCLUDES, limit=PAGE_SIZE))

    with_unit = [user for user in users if user.organizational_unit is not None]
    assert len(users) == DEMO_USERS
    assert all(user.language is not None for user in users)
    assert with_unit
    assert any(user.organizational_unit.business_unit for user in with_unit)  # type: ignore[union-attr]


def test_unknown_include_raises_bad_request(shared_client: Client) -> None:
    with pytest.raises(BadRequestError) as raised:
        shared_client.users(include=["manager"])

    assert raised.value.status_code == 400
    assert "organizationalUnit.businessUnit" in raised.value.message


def test_invalid_limit_raises_field_error(shared_client: Client) -> None:
    with pytest.raises(ValidationFailedError) as raised:
        shared_client.topics(limit=101)

    assert list(raised.value.errors) == ["limit"]


def test_page_past_last_is_empty(shared_client: Client) -> None:
    page = shared_client.topics(page=50, limit=10)

    assert page.data == []
    assert page.links.next is None
    assert page.meta.to is None


def test_delete_users_all_or_nothing(client: Client) -> None:
    first, second, *_ = client.users(limit=3).data

    with pytest.raises(NotFoundError) as unknown:
        client.delete_users([first.email, "nobody@example.com"])
    assert client.users(limit=1).meta.total == DEMO_USERS

    client.delete_users([first.email, second.email])
    remaining = {user.email for user in client.iter_users()}

    assert "nobody@example.com" in unknown.value.message
    assert first.email not in unknown.value.message
    assert len(remaining) == DEMO_USERS - 2
    assert first.email not in remaining
    assert second.email not in remaining

    with pytest.raises(ValidationFailedError) as malformed:
        client.delete_users(["not-an-address"])
    with pytest.raises(ValidationFailedError) as empty:
        client.delete_users([])

    assert malformed.value.errors == {
        "emails.0": ["The emails.0 field must be a valid email address."]
    }
    assert empty.value.errors == {"emails": ["The emails field is required."]}
