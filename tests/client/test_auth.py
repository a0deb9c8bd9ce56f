"""The client's tokens against the live server: grants, refresh before expiry, fallbacks."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import httpx
import pytest

from maizeplus.client import (
    Client,
    Credentials,
    OAuthError,
    UnauthenticatedError,
)
from maizeplus.demo.service import DemoResult
from tests.client.conftest import (
    DEMO_USERS,
    FAST_RETRY,
    MemoryTokenStore,
    SharedServer,
)
from tests.support import LiveServer

# The shortest lifetime the server accepts (Settings.access_token_ttl_seconds).
SHORT_TTL_SECONDS = 60
# Renew 58.5 s before expiry, so 1.5 s after each token is issued.
REFRESH_MARGIN_SECONDS = 58.5
RENEWAL_WAIT_SECONDS = SHORT_TTL_SECONDS - REFRESH_MARGIN_SECONDS + 0.2


@pytest.fixture
def short_lived_server(shared_server: SharedServer) -> Iterator[LiveServer]:
    """A second server on the shared database that issues one-minute tokens."""
    short = shared_server.settings.model_copy(
        update={"access_token_ttl_seconds": SHORT_TTL_SECONDS}
    )
    server = LiveServer(short).start()
    yield server
    server.stop()


def revoke(server_url: str, demo: DemoResult, token: str) -> None:
    """Revoke a token and its whole family through the server's revocation endpoint."""
    response = httpx.post(
        f"{server_url}/oauth/token/revoke",
        data={
            "token": token,
            "client_id": str(demo.client_id),
            "client_secret": demo.client_secret,
        },
        timeout=30,
    )
    assert response.status_code == 200, response.text


def bearer_status(server_url: str, access_token: str) -> int:
    response = httpx.get(
        f"{server_url}/api/v1/topics",
        headers={
            "Authorization": f"Bearer {access_token}",
            "Accept": "application/json",
        },
        timeout=30,
    )
    return response.status_code


def test_password_grant_token(
    shared_client: Client, shared_server: SharedServer
) -> None:
    token = shared_client.authenticate()

    assert token.token_type == "Bearer"
    assert token.expires_in == 3600
    assert token.refresh_token
    assert bearer_status(shared_server.url, token.access_token) == 200
    assert shared_client.topics().meta.total == 4


def test_client_credentials_grant(shared_server: SharedServer) -> None:
    demo = shared_server.demo
    credentials = Credentials(str(demo.client_id), demo.client_secret)

    with Client(shared_server.url, credentials, retry=FAST_RETRY) as client:
        token = client.authenticate()
        users = client.users(limit=5)

    assert credentials.grant_type == "client_credentials"
    assert token.refresh_token is None
    assert users.meta.total == DEMO_USERS


def test_rejected_credentials_raise_oauth_error(shared_server: SharedServer) -> None:
    demo = shared_server.demo
    wrong_secret = Credentials(
        str(demo.client_id), "wrong", username=demo.username, password=demo.password
    )
    wrong_password = Credentials(
        str(demo.client_id), demo.client_secret, username=demo.username, password="no"
    )

    with (
        Client(shared_server.url, wrong_secret, retry=FAST_RETRY) as client,
        pytest.raises(OAuthError) as secret_error,
    ):
        client.topics()
    with (
        Client(shared_server.url, wrong_password, retry=FAST_RETRY) as client,
        pytest.raises(OAuthError) as password_error,
    ):
        client.authenticate()

    assert secret_error.value.status_code == 401
    assert secret_error.value.error == "invalid_client"
    assert secret_error.value.message == "Client authentication failed"
    assert secret_error.value.attempts == 1
    assert password_error.value.status_code == 400
    assert password_error.value.error == "invalid_grant"


def test_refresh_before_expiry(
    short_lived_server: LiveServer,
    shared_server: SharedServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = MemoryTokenStore()
    caplog.set_level(logging.INFO, logger="maizeplus.client")
    with Client(
        short_lived_server.url,
        shared_server.credentials,
        retry=FAST_RETRY,
        refresh_margin=REFRESH_MARGIN_SECONDS,
        token_store=store,
    ) as client:
        client.topics()
        first = store.saved[-1]
        assert first.expires_at - first.renew_at == pytest.approx(
            REFRESH_MARGIN_SECONDS
        )

        time.sleep(RENEWAL_WAIT_SECONDS)
        client.topics()
        refreshed = store.saved[-1]

        # The refresh happened while the first token still had most of its life.
        assert len(store.saved) == 2
        assert refreshed.access_token != first.access_token
        assert refreshed.refresh_token != first.refresh_token
        assert time.time() < first.expires_at - 50
        assert "access token refreshed" in caplog.messages
        assert bearer_status(short_lived_server.url, refreshed.access_token) == 200

        # A failed refresh falls back to a new password grant.
        assert refreshed.refresh_token is not None
        revoke(short_lived_server.url, shared_server.demo, refreshed.refresh_token)
        time.sleep(RENEWAL_WAIT_SECONDS)
        assert client.topics().meta.total == 4

    regranted = store.saved[-1]
    assert len(store.saved) == 3
    assert regranted.access_token != refreshed.access_token
    assert any("token refresh failed (invalid_grant)" in m for m in caplog.messages)
    assert "access token issued with the password grant" in caplog.messages


def test_rejected_token_renewed_once(
    shared_client: Client, shared_server: SharedServer
) -> None:
    token = shared_client.authenticate()
    assert token.refresh_token is not None
    revoke(shared_server.url, shared_server.demo, token.refresh_token)
    assert bearer_status(shared_server.url, token.access_token) == 401

    # The client still has the revoked pair: the 401 makes it refresh, which
    # fails, then take a new grant and send the request again.
    page = shared_client.users(limit=3)

    assert page.meta.total == DEMO_USERS


def test_static_token_is_not_renewed(shared_server: SharedServer) -> None:
    with Client(
        shared_server.url, retry=FAST_RETRY, access_token="not-a-token"
    ) as client:
        with pytest.raises(UnauthenticatedError) as raised:
            client.topics()
        with pytest.raises(ValueError, match="without credentials"):
            client.authenticate()

    assert raised.value.status_code == 401
    assert raised.value.message == "Unauthenticated."
    assert raised.value.attempts == 1


def test_token_store_reused_across_clients(shared_server: SharedServer) -> None:
    store = MemoryTokenStore()
    credentials = shared_server.credentials
    with Client(shared_server.url, credentials, token_store=store) as first:
        first.topics()
    with Client(shared_server.url, credentials, token_store=store) as second:
        second.courses()

    assert len(store.saved) == 1


def test_caller_http_client_used(shared_server: SharedServer) -> None:
    sent: list[httpx.Request] = []
    http = httpx.Client(event_hooks={"request": [sent.append]}, timeout=10)

    with Client(
        shared_server.url, shared_server.credentials, http_client=http
    ) as client:
        client.topics()

    assert [request.url.path for request in sent] == ["/oauth/token", "/api/v1/topics"]
    assert sent[1].headers["User-Agent"].startswith("maizeplus-client")
    assert not http.is_closed
    http.close()
