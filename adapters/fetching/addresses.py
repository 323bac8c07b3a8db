"""Which IP addresses a fetch may connect to: public ones, unless configuration widens it.

A URL given by a site owner must not become a way into the machine the service runs on
or its network (SSRF): loopback, private ranges, link-local, CGNAT, multicast, reserved
and unspecified addresses are refused, as are IPv6 forms that embed such an IPv4 address
(IPv4-mapped, 6to4, NAT64). Cloud metadata services are refused even when private
addresses are allowed: no configuration has a reason to feed a widget credentials.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from domain.errors import InvalidInputError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")  # RFC 6598, neither private nor global
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052 well-known prefix
METADATA = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle, …
        "169.254.170.2",  # AWS ECS task credentials
        "fd00:ec2::254",  # AWS, over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud (classic)
    )
)


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, NAT64, 6to4), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def refusal(address: IPAddress) -> str | None:
    """What kind of non-public address this is ("loopback", "private", …), or None when
    it is a public one."""
    inner = embedded_ipv4(address)
    if inner is not None:
        return refusal(inner)
    if address.is_loopback:
        return "loopback"
    if address.is_unspecified:
        return "unspecified"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return "shared (CGNAT)"
    if address.is_private:
        return "private"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "non-public"
    return None


def is_metadata(address: IPAddress) -> bool:
    inner = embedded_ipv4(address)
    return address in METADATA or (inner is not None and inner in METADATA)


class AddressPolicy:
    """Raises InvalidInputError for an address a fetch may not connect to."""

    def __init__(self, *, allow_private: bool = False, allowed_networks: Iterable[str] = ()):
        self.allow_private = allow_private
        try:
            self.allowed_networks: tuple[IPNetwork, ...] = tuple(
                ipaddress.ip_network(network.strip(), strict=False)
                for network in allowed_networks
                if network.strip()
            )
        except ValueError as error:
            raise ValueError(f"allowed network: {error}") from None

    def check(self, host: str, address: IPAddress) -> None:
        kind = "cloud metadata" if is_metadata(address) else None
        if kind is None and not self.allow_private and not self._allowed(address):
            kind = refusal(address)
        if kind is None:
            return
        where = host if _is_literal(host, address) else f"{host} ({address})"
        raise InvalidInputError(
            f"refusing to fetch from {where}: it is a {kind} address, "
            "and only public addresses can be fetched",
            details={"field": "url", "address": str(address)},
        )

    def _allowed(self, address: IPAddress) -> bool:
        inner = embedded_ipv4(address) or address
        return any(
            inner.version == network.version and inner in network
            for network in self.allowed_networks
        )


def _is_literal(host: str, address: IPAddress) -> bool:
    """Whether the host was written as this very address (not a name resolving to it)."""
    try:
        return ipaddress.ip_address(host.strip("[]")) == address
    except ValueError:
        return False
