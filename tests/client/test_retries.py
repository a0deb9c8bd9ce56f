"""Retries through a faulty proxy in front of the live server, and a server restart."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator

import pytest

from maizeplus.client import (
    Client,
    ConnectionFailedError,
    Credentials,
    RateLimitedError,
    RetryPolicy,
    ServerError,
)
from tests.client.conftest import DEMO_USERS, FAST_RETRY, SharedServer
from tests.client.proxy import Fault, FaultyProxy
from tests.client.test_imports import POSTMAN_DIR
from tests.support import LiveServer, free_port

TOPICS = "/api/v1/topics"
IMPORT = "/api/v1/import"


@pytest.fixture
def proxy(shared_server: SharedServer) -> Iterator[FaultyProxy]:
    with FaultyProxy(shared_server.url) as running:
        yield running


@pytest.fixture
def credentials(shared_server: SharedServer) -> Credentials:
    return shared_server.credentials


@pytest.fixture
def proxied(proxy: FaultyProxy, credentials: Credentials) -> Iterator[Client]:
    with Client(proxy.url, credentials, retry=FAST_RETRY) as client:
        client.authenticate()
        yield client


def paths(requests: list[tuple[str, str]], method: str, prefix: str) -> int:
    return sum(1 for m, path in requests if m == method and path.startswith(prefix))


def test_429_waits_retry_after(proxied: Client, proxy: FaultyProxy) -> None:
    proxy.add(Fault("GET", TOPICS, 429, retry_after="1"))

    started = time.monotonic()
    page = proxied.topics()
    elapsed = time.monotonic() - started

    assert page.meta.total == 4
    assert elapsed >= 1.0
    assert paths(proxy.requests, "GET", TOPICS) == 2
    assert paths(proxy.forwarded, "GET", TOPICS) == 1


def test_429_retries_an_upload_once(proxied: Client, proxy: FaultyProxy) -> None:
    # A throttled request was rejected before it was processed, so even an
    # upload is sent again.
    proxy.add(Fault("POST", IMPORT, 429, retry_after="0"))

    job = proxied.import_users(POSTMAN_DIR / "import-users.csv")

    assert paths(proxy.requests, "POST", IMPORT) == 2
    assert paths(proxy.forwarded, "POST", IMPORT) == 1
    assert proxied.import_status().uuid == job.uuid


def test_long_retry_after_raises(proxied: Client, proxy: FaultyProxy) -> None:
    proxy.add(Fault("GET", TOPICS, 429, retry_after="600"))

    started = time.monotonic()
    with pytest.raises(RateLimitedError) as raised:
        proxied.topics()

    # Far below the 600 s asked for: the client did not wait.
    assert time.monotonic() - started < 5
    assert raised.value.retry_after == 600
    assert raised.value.status_code == 429
    assert raised.value.attempts == 1


def test_429_on_token_request_retried(
    proxy: FaultyProxy, credentials: Credentials
) -> None:
    proxy.add(Fault("POST", "/oauth/token", 429, retry_after="0"))

    with Client(proxy.url, credentials, retry=FAST_RETRY) as client:
        token = client.authenticate()

    assert token.access_token
    assert paths(proxy.requests, "POST", "/oauth/token") == 2


def test_gateway_errors_retried_on_reads(proxied: Client, proxy: FaultyProxy) -> None:
    proxy.add(
        Fault("GET", TOPICS, 502), Fault("GET", TOPICS, 503), Fault("GET", TOPICS, 504)
    )

    page = proxied.topics()

    assert page.meta.total == 4
    assert paths(proxy.requests, "GET", TOPICS) == 4


def test_retries_end_after_max_attempts(
    proxy: FaultyProxy, credentials: Credentials
) -> None:
    policy = RetryPolicy(max_attempts=3, backoff_initial=0.01)
    proxy.add(*(Fault("GET", TOPICS, 503) for _ in range(5)))

    with (
        Client(proxy.url, credentials, retry=policy) as client,
        pytest.raises(ServerError) as raised,
    ):
        client.topics()

    assert raised.value.status_code == 503
    assert raised.value.attempts == 3
    assert paths(proxy.requests, "GET", TOPICS) == 3


def test_gateway_error_on_upload_not_retried(
    proxied: Client, proxy: FaultyProxy
) -> None:
    proxy.add(Fault("POST", IMPORT, 503))

    with pytest.raises(ServerError) as raised:
        proxied.import_users(POSTMAN_DIR / "import-users.csv")

    assert raised.value.attempts == 1
    assert paths(proxy.requests, "POST", IMPORT) == 1
    assert paths(proxy.forwarded, "POST", IMPORT) == 0


def test_dropped_connection_retried_on_reads(
    proxied: Client, proxy: FaultyProxy
) -> None:
    proxy.add(Fault("GET", TOPICS, None), Fault("GET", TOPICS, None))

    page = proxied.topics()

    assert page.meta.total == 4
    assert paths(proxy.requests, "GET", TOPICS) == 3


def test_dropped_connection_on_upload_raises(
    proxied: Client, proxy: FaultyProxy
) -> None:
    proxy.add(Fault("POST", IMPORT, None))

    with pytest.raises(ConnectionFailedError) as raised:
        proxied.import_users(POSTMAN_DIR / "import-users.csv")

    assert raised.value.sent is True
    assert raised.value.attempts == 1
    assert "was not repeated" in str(raised.value)
    assert paths(proxy.requests, "POST", IMPORT) == 1


def test_refused_connection_retried_then_raises() -> None:
    credentials = Credentials("1", "secret", username="api@example.com", password="pw")
    policy = RetryPolicy(max_attempts=3, backoff_initial=0.01)
    url = f"http://127.0.0.1:{free_port()}"

    with (
        Client(url, credentials, retry=policy) as client,
        pytest.raises(ConnectionFailedError) as raised,
    ):
        client.import_users(b"email\n", filename="users.csv")

    assert raised.value.sent is False
    assert raised.value.attempts == 3
    assert "may have reached" not in str(raised.value)


def test_links_of_another_origin_rebased(
    shared_server: SharedServer,
    credentials: Credentials,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The upstream gets its own address as Host, so its page links bypass the proxy.
    with (
        FaultyProxy(shared_server.url, preserve_host=False) as proxy,
        Client(proxy.url, credentials, retry=FAST_RETRY) as client,
    ):
        users = list(client.iter_users(limit=10))
        first = client.users(limit=10)

    # Another test of this module may have imported users, so count them.
    total = first.meta.total
    assert len(users) == total
    assert (first.links.next or "").startswith(shared_server.url)
    assert paths(proxy.requests, "GET", "/api/v1/users") == math.ceil(total / 10) + 1
    assert any("is not under the base URL" in message for message in caplog.messages)


def test_export_walk_survives_restart(
    shared_server: SharedServer,
    credentials: Credentials,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A server of the test's own on the shared database, stopped and started
    # again on the same port.
    settings = shared_server.settings
    server = LiveServer(settings).start()
    port = server.port
    restarted: list[LiveServer] = []
    # At least 8 s of retries, for a restart on a loaded machine.
    policy = RetryPolicy(max_attempts=20, backoff_initial=0.1, backoff_max=1.0)

    def restart() -> None:
        time.sleep(0.5)
        restarted.append(LiveServer(settings, port=port).start())

    try:
        with Client(server.url, credentials, retry=policy) as client:
            pages = client.iter_raw_pages("users", limit=4)
            uuids = [user["uuid"] for user in next(pages)["data"]]
            server.stop()
            starter = threading.Thread(target=restart)
            starter.start()
            for page in pages:
                uuids += [user["uuid"] for user in page["data"]]
            starter.join()
            expected = [user.uuid for user in client.iter_users()]
    finally:
        server.stop()
        for later in restarted:
            later.stop()

    assert uuids == expected
    assert len(set(uuids)) == len(expected)
    assert len(expected) >= DEMO_USERS
    assert any("retrying" in message for message in caplog.messages)
