"""The address a request came from, as rate limits count it.

Behind a reverse proxy every request comes from the proxy, and only X-Forwarded-For says
from whom; but anyone can send that header, so it is believed only when the request came
through a proxy the operator named (`TRUSTED_PROXIES`, off by default), and only as far
as the chain of trusted proxies goes: read from the right, the first address that is not
one of them is the client. Whatever a client wrote further left is never read.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

from litestar.connection import ASGIConnection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str) -> list[Network]:
    """`10.0.0.0/8, 192.0.2.7, ::1`; ValueError naming the bad entry."""
    return [ipaddress.ip_network(n.strip(), strict=False) for n in text.split(",") if n.strip()]


def _trusted(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(
    peer: str | None, forwarded_for: Iterable[str], trusted: Sequence[Network]
) -> str | None:
    if peer is None or not trusted or not _trusted(peer, trusted):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
    client = peer
    for hop in reversed(hops):
        try:
            address = str(ipaddress.ip_address(hop))
        except ValueError:
            return client  # not what a proxy appends: the last trusted hop is all we know
        if not _trusted(address, trusted):
            return address
        client = address
    return client


def request_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    trusted: Sequence[Network] = getattr(connection.app.state, "trusted_proxies", ())
    peer = connection.client.host if connection.client else None
    return client_address(peer, connection.headers.getall("x-forwarded-for", []), trusted)
