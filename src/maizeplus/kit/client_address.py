"""The address of the client behind a request, with X-Forwarded-For from trusted proxies.

The peer of the TCP connection is the client unless it is one of the trusted
proxies (``MAIZEPLUS_TRUSTED_PROXIES``). Then the client is the rightmost
address of ``X-Forwarded-For`` that is not a trusted proxy. Every proxy
appends the address that it received the request from. So the entries right
of the client's were written by trusted proxies, and those left of it by the
client, which may have forged them. The header is ignored when the peer is
not trusted.

``ClientAddress`` resolves the address once per request, stores it in the
request's state for the rate limits and in a context variable that
``ClientAddressLogFilter`` adds to every log record of the request.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextvars import ContextVar
from ipaddress import IPv4Address, IPv6Address, ip_address

from starlette.types import ASGIApp, Receive, Scope, Send

from maizeplus.settings import IPNetwork

IPAddress = IPv4Address | IPv6Address

# The key in the ASGI scope's "state" under which the address is stored.
STATE_KEY = "client_address"

current_client_address: ContextVar[str | None] = ContextVar(
    "current_client_address", default=None
)


def _parse(value: str) -> IPAddress | None:
    """Parse one X-Forwarded-For entry: an address, ``[v6]`` or ``[v6]:port``, ``v4:port``."""
    text = value.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        return ip_address(text)
    except ValueError:
        return None


def _is_trusted(address: IPAddress, trusted: Sequence[IPNetwork]) -> bool:
    # An IPv4-mapped IPv6 peer (::ffff:10.0.0.1) counts as its IPv4 address.
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in trusted)


def resolve_client_address(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]
) -> str | None:
    """Return the client's address from the peer and the X-Forwarded-For values.

    ``forwarded_for`` contains the values of every X-Forwarded-For header in
    the order received. When the entries run out, or one is not an address,
    the nearest address already walked is taken as the client's, because
    nothing beyond it can be trusted.
    """
    if peer is None:
        return None
    peer_address = _parse(peer)
    if peer_address is None or not _is_trusted(peer_address, trusted):
        return peer
    entries = [entry for value in forwarded_for for entry in value.split(",")]
    nearest = peer_address
    for entry in reversed(entries):
        address = _parse(entry)
        if address is None:
            break
        nearest = address
        if not _is_trusted(address, trusted):
            break
    return str(nearest)


def scope_client_address(scope: Scope) -> str | None:
    """Return the address that ``ClientAddress`` stored for this request."""
    state = scope.get("state") or {}
    address = state.get(STATE_KEY)
    return address if isinstance(address, str) else None


class ClientAddress:
    """ASGI middleware that resolves the client's address for rate limits and logs."""

    def __init__(self, app: ASGIApp, trusted_proxies: Sequence[IPNetwork]) -> None:
        self.app = app
        self.trusted_proxies = tuple(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        forwarded_for: list[str] = []
        if self.trusted_proxies:
            forwarded_for = [
                value.decode("latin-1")
                for name, value in scope["headers"]
                if name == b"x-forwarded-for"
            ]
        address = resolve_client_address(
            client[0] if client else None, forwarded_for, self.trusted_proxies
        )
        scope.setdefault("state", {})[STATE_KEY] = address
        token = current_client_address.set(address)
        try:
            await self.app(scope, receive, send)
        finally:
            current_client_address.reset(token)


class ClientAddressLogFilter(logging.Filter):
    """Add ``client_address`` to records logged while a request is handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        address = current_client_address.get()
        if address is not None and not hasattr(record, "client_address"):
            record.client_address = address
        return True
