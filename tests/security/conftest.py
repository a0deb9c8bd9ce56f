"""Fixtures of the security tests: a rate limit high enough for their request bursts."""

from __future__ import annotations

import pytest

from maizeplus.settings import Settings

# Several tests send hundreds of requests a minute with one token, which the
# API's rate limit (60 a minute per token by default) would reject with 429.
# NOTE: the setting's name is the one the rate limit is planned to have;
# Settings ignores an unknown name, so until it exists this changes nothing.
RATE_LIMIT_SETTING = "rate_limit_api_per_minute"
HIGH_RATE_LIMIT = 1_000_000


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return Settings(**{**settings.model_dump(), RATE_LIMIT_SETTING: HIGH_RATE_LIMIT})
