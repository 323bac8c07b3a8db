"""Web origins: what a widget's owner may allow, and whether a browser's Origin matches.

A browser sends its page's origin serialized one way only: `scheme://host[:port]`, the
scheme and host in lower case, the host in ASCII (punycode), the port left out when it is
the scheme's default, and nothing after it. An Origin header in any other form did not
come from a browser's page, so it matches nothing. What an owner writes is brought to that
form when it is written (`allowed_origin`), so that the two compare exactly.

A wildcard `scheme://*.example.com[:port]` stands for exactly one more label to the left
(`https://a.example.com`), never the bare domain nor deeper ones (`a.b.example.com`), as
in a TLS certificate; `*` alone allows any origin.
"""

from __future__ import annotations

import re
from functools import lru_cache

ANY_ORIGIN = "*"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_IPV6 = re.compile(r"^\[[0-9a-f:.]+\]$")
_WRITTEN = re.compile(
    r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://"
    r"(?P<host>[^/:?#@]+|\[[^\]]*\])(?::(?P<port>[0-9]{1,5}))?/?$"
)
MAX_HOST_LENGTH = 253


class OriginError(ValueError):
    """A value that is not an origin, with the reason, written for the person who gave it."""


def _host(raw: str) -> str:
    if _IPV6.match(raw.lower()):
        return raw.lower()
    try:
        # IDNA 2003 from the standard library; browsers use UTS 46, which differs only for
        # a few characters (ß, ς, joiners): an owner with one of those writes the punycode.
        host = raw.encode("idna").decode("ascii").lower()
    except UnicodeError as error:
        raise OriginError(f"{raw!r} is not a host name") from error
    if _IPV4.match(host):
        if any(int(part) > 255 for part in host.split(".")):
            raise OriginError(f"{raw!r} is not an IPv4 address")
        return host
    if len(host) > MAX_HOST_LENGTH or not all(_LABEL.match(label) for label in host.split(".")):
        raise OriginError(f"{raw!r} is not a host name")
    return host


def allowed_origin(value: str) -> str:
    """An allowed origin as its owner wrote it, in the form browsers send; `OriginError`
    when it is something no browser's Origin could ever be."""
    if value == ANY_ORIGIN:
        return value
    found = _WRITTEN.match(value.strip())
    if found is None:
        raise OriginError(
            f"{value!r} must be '*' or scheme://host[:port] with nothing after it "
            "(no path, query or credentials)"
        )
    scheme = found["scheme"].lower()
    if scheme not in _DEFAULT_PORTS:
        raise OriginError(f"{value!r} must start with http:// or https://")
    host = found["host"]
    wildcard = host.startswith("*.")
    if wildcard:
        host = host[2:]
        if host.count(".") < 1:
            raise OriginError(f"{value!r}: a wildcard needs a domain of two labels or more")
    elif "*" in host:
        raise OriginError(f"{value!r}: '*' may only stand for the whole first label ('*.')")
    host = _host(host)
    if wildcard and _IPV4.match(host):
        raise OriginError(f"{value!r}: a wildcard applies to domain names only")
    port = found["port"]
    if port is not None:
        number = int(port)
        if not 1 <= number <= 65535:
            raise OriginError(f"{value!r}: port {port} is out of range")
        port = None if number == _DEFAULT_PORTS[scheme] else str(number)
    return f"{scheme}://{'*.' if wildcard else ''}{host}{'' if port is None else ':' + port}"


def is_serialized_origin(value: str) -> bool:
    """Whether an Origin header is exactly what a browser's page sends: the only form
    that is ever matched, or echoed back."""
    if "*" in value:
        return False
    try:
        return allowed_origin(value) == value
    except OriginError:
        return False


class OriginPolicy:
    """The origins one widget allows, ready to compare against an Origin header."""

    def __init__(self, allowed: tuple[str, ...]) -> None:
        self.any = False
        self.exact: set[str] = set()
        # (scheme, "." + domain, port suffix) of each wildcard.
        self.wildcards: list[tuple[str, str, str]] = []
        for value in allowed:
            try:
                origin = allowed_origin(value)
            except OriginError:
                continue  # stored before origins were checked: it never matched anything
            if origin == ANY_ORIGIN:
                self.any = True
            elif "://*." in origin:
                scheme, _, rest = origin.partition("://*")
                domain, _, port = rest.partition(":")
                self.wildcards.append((scheme, domain, f":{port}" if port else ""))
            else:
                self.exact.add(origin)

    def allows(self, origin: str) -> bool:
        if not is_serialized_origin(origin):
            return False
        if self.any or origin in self.exact:
            return True
        for scheme, domain, port in self.wildcards:
            prefix = scheme + "://"
            if not origin.startswith(prefix):
                continue
            host = origin[len(prefix) :]
            if port:
                if not host.endswith(port):
                    continue
                host = host[: -len(port)]
            elif ":" in host:
                continue
            label, dot, rest = host.partition(".")
            if dot and "." + rest == domain and _LABEL.match(label):
                return True
        return False


@lru_cache(maxsize=4096)
def origin_policy(allowed: tuple[str, ...]) -> OriginPolicy:
    """One policy per list of allowed origins, parsed once: every chat asks."""
    return OriginPolicy(allowed)
