"""Deactivating users (``DELETE /api/v1/users``) and restoring them (operators only)."""

from __future__ import annotations

from collections.abc import Sequence

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.kit.clock import utcnow
from maizeplus.kit.errors import NotFound, ValidationFailed
from maizeplus.users.models import User

MAX_EMAILS_PER_REQUEST = 1000


class UsersNotFound(NotFound):
    """Some addresses belong to no user of the tenant, so nothing was changed."""

    def __init__(self, emails: Sequence[str]) -> None:
        self.emails = list(emails)
        super().__init__(
            "No user of this tenant has the email " + ", ".join(self.emails) + "."
        )


def normalize_emails(raw: Sequence[str]) -> list[str]:
    """Check the requested addresses and return them trimmed, lower case and unique.

    Raises ``ValidationFailed`` on ``emails`` when there are none or too many,
    and on ``emails.N`` for each malformed address, as Laravel names array items.
    """
    if not raw:
        raise ValidationFailed({"emails": ["The emails field is required."]})
    if len(raw) > MAX_EMAILS_PER_REQUEST:
        raise ValidationFailed(
            {
                "emails": [
                    f"The emails field must not have more than {MAX_EMAILS_PER_REQUEST} items."
                ]
            }
        )
    errors: dict[str, list[str]] = {}
    emails: list[str] = []
    for index, value in enumerate(raw):
        email = value.strip().lower()
        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError:
            errors[f"emails.{index}"] = [
                f"The emails.{index} field must be a valid email address."
            ]
            continue
        if email not in emails:
            emails.append(email)
    if errors:
        raise ValidationFailed(errors)
    return emails


async def _users_by_email(
    session: AsyncSession, tenant_id: int, emails: Sequence[str]
) -> dict[str, int]:
    rows = await session.execute(
        select(User.email, User.id).where(
            User.tenant_id == tenant_id, User.email.in_(emails)
        )
    )
    return {row.email: row.id for row in rows}


async def deactivate_users(
    session: AsyncSession, tenant_id: int, raw_emails: Sequence[str]
) -> int:
    """Deactivate every named user of the tenant, or none if any address is unknown.

    Users already deactivated stay so. Returns how many users the request named.
    """
    emails = normalize_emails(raw_emails)
    found = await _users_by_email(session, tenant_id, emails)
    missing = [email for email in emails if email not in found]
    if missing:
        raise UsersNotFound(missing)
    await session.execute(
        update(User)
        .where(
            User.tenant_id == tenant_id,
            User.id.in_(list(found.values())),
            User.deactivated_at.is_(None),
        )
        .values(deactivated_at=utcnow(), updated_at=utcnow())
    )
    return len(found)


async def restore_users(
    session: AsyncSession, tenant_id: int, raw_emails: Sequence[str]
) -> int:
    """Bring back deactivated users, so imports and exports see them again.

    Raises ``UsersNotFound`` and changes nothing if any address is unknown.
    Returns how many users were deactivated before the call.
    """
    emails = normalize_emails(raw_emails)
    found = await _users_by_email(session, tenant_id, emails)
    missing = [email for email in emails if email not in found]
    if missing:
        raise UsersNotFound(missing)
    result = await session.execute(
        update(User)
        .where(
            User.tenant_id == tenant_id,
            User.id.in_(list(found.values())),
            User.deactivated_at.is_not(None),
        )
        .values(deactivated_at=None, updated_at=utcnow())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
