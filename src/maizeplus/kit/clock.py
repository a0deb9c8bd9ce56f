"""The service's one notion of now and the timestamp formats of the contract."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Return the current UTC time as a naive datetime, to the second.

    The database columns hold naive UTC. The original service stored seconds,
    so its resources always show ``.000000`` microseconds; truncating here keeps
    the rendered timestamps identical.
    """
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def format_resource_time(value: datetime | None) -> str | None:
    """Render a timestamp as resources show it: ``2022-11-08T18:39:54.000000Z``."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def format_validation_time(value: datetime) -> str:
    """Render a row error's ``validated_at``: ``2022-11-08 18:39:54``."""
    return value.strftime("%Y-%m-%d %H:%M:%S")
