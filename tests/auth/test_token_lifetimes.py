"""Token lifetimes follow the settings, not fixed defaults."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from maizeplus.kit.clock import utcnow
from maizeplus.settings import Settings
from tests.auth.oauth import (
    fetch_access_token,
    fetch_refresh_token,
    log_in,
    post_token,
    refresh_fields,
)
from tests.support import TenantCredentials


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"access_token_ttl_seconds": 120, "refresh_token_ttl_seconds": 600}
    )


def test_refresh_lifetimes_follow_settings(
    api: httpx.Client, database_url: str, tenant: TenantCredentials
) -> None:
    before = utcnow()
    first = log_in(api, tenant)
    second = post_token(api, refresh_fields(tenant, first["refresh_token"])).json()
    after = utcnow()

    for body in (first, second):
        assert body["expires_in"] == 120
        access = fetch_access_token(database_url, body["access_token"])
        refresh = fetch_refresh_token(database_url, body["refresh_token"])
        assert before + timedelta(seconds=120) <= access.expires_at
        assert access.expires_at <= after + timedelta(seconds=120)
        assert before + timedelta(seconds=600) <= refresh.expires_at
        assert refresh.expires_at <= after + timedelta(seconds=600)
