"""``maizeplus demo``: a tenant full of realistic data to try the API on."""

from __future__ import annotations


def demo() -> None:
    """Create or refresh the demo tenant."""
    raise NotImplementedError
