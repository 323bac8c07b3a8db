"""Whose address a request is counted under: X-Forwarded-For only from trusted proxies."""

from __future__ import annotations

import pytest

from entrypoints.http.client_address import client_address, parse_networks

PROXIES = parse_networks("10.0.0.0/8, 192.0.2.7")


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "client"),
    [
        # Off by default: the header is anyone's to write.
        ("203.0.113.5", ["198.51.100.1"], [], "203.0.113.5"),
        ("10.0.0.2", ["198.51.100.1"], [], "10.0.0.2"),
        # From a peer that is not a trusted proxy: ignored.
        ("203.0.113.5", ["198.51.100.1"], PROXIES, "203.0.113.5"),
        # Through a trusted proxy: the address it saw.
        ("10.0.0.2", ["198.51.100.1"], PROXIES, "198.51.100.1"),
        # A client's own guess on the left is never read: the first untrusted from the right.
        ("10.0.0.2", ["1.1.1.1, 198.51.100.1"], PROXIES, "198.51.100.1"),
        ("10.0.0.2", ["1.1.1.1, 198.51.100.1, 192.0.2.7"], PROXIES, "198.51.100.1"),
        ("10.0.0.2", ["1.1.1.1", "198.51.100.1"], PROXIES, "198.51.100.1"),
        ("10.0.0.2", ["garbage, 10.0.0.9"], PROXIES, "10.0.0.9"),
        ("10.0.0.2", [], PROXIES, "10.0.0.2"),
        ("10.0.0.2", ["2001:DB8::1"], PROXIES, "2001:db8::1"),
        (None, ["198.51.100.1"], PROXIES, None),
    ],
)
def test_the_client_is_the_first_untrusted_hop_from_the_right(
    peer: str | None, forwarded: list[str], trusted: list, client: str | None
) -> None:
    assert client_address(peer, forwarded, trusted) == client


def test_a_bad_proxy_setting_is_refused_at_start() -> None:
    from entrypoints.settings import Settings, SettingsError

    with pytest.raises(SettingsError, match="TRUSTED_PROXIES"):
        Settings(trusted_proxies="10.0.0.0/8, proxy.internal")
    assert Settings(trusted_proxies="10.0.0.0/8, ::1").trusted_proxies
