"""The client's address from the peer and X-Forwarded-For, and its place in the logs."""

from __future__ import annotations

import logging
from ipaddress import ip_network

import pytest

from maizeplus.kit.client_address import (
    ClientAddressLogFilter,
    current_client_address,
    resolve_client_address,
)

PROXIES = [ip_network("10.0.0.0/8"), ip_network("fd00::/8")]

CASES = [
    # (peer, X-Forwarded-For values, expected client address)
    ("203.0.113.5", ["198.51.100.1"], "203.0.113.5"),
    ("10.0.0.2", [], "10.0.0.2"),
    ("10.0.0.2", ["198.51.100.1"], "198.51.100.1"),
    ("10.0.0.2", ["192.0.2.66, 198.51.100.1"], "198.51.100.1"),
    ("10.0.0.2", ["198.51.100.1, 10.0.0.3"], "198.51.100.1"),
    ("10.0.0.2", ["192.0.2.66", "198.51.100.1, 10.0.0.3"], "198.51.100.1"),
    ("10.0.0.2", ["10.0.0.4, 10.0.0.3"], "10.0.0.4"),
    ("10.0.0.2", ["not-an-address, 10.0.0.3"], "10.0.0.3"),
    ("10.0.0.2", ["198.51.100.1:4711"], "198.51.100.1"),
    ("10.0.0.2", ["[2001:db8::1]:4711"], "2001:db8::1"),
    ("fd00::2", ["2001:db8::1"], "2001:db8::1"),
    ("::ffff:10.0.0.2", ["198.51.100.1"], "198.51.100.1"),
    (None, ["198.51.100.1"], None),
]


@pytest.mark.parametrize(("peer", "forwarded_for", "expected"), CASES)
def test_client_address_resolves(
    peer: str | None, forwarded_for: list[str], expected: str | None
) -> None:
    assert resolve_client_address(peer, forwarded_for, PROXIES) == expected


def test_client_address_no_proxies_ignores_header() -> None:
    assert resolve_client_address("10.0.0.2", ["198.51.100.1"], []) == "10.0.0.2"


def test_client_address_log_filter_adds_field() -> None:
    record = logging.makeLogRecord({"msg": "oauth.login_failed"})
    outside = logging.makeLogRecord({"msg": "server.started"})

    token = current_client_address.set("198.51.100.1")
    try:
        ClientAddressLogFilter().filter(record)
    finally:
        current_client_address.reset(token)
    ClientAddressLogFilter().filter(outside)

    assert getattr(record, "client_address", None) == "198.51.100.1"
    assert not hasattr(outside, "client_address")
