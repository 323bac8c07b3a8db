"""Fetch a document by URL with httpx, within time and size bounds, public addresses only.

How the address check holds against DNS rebinding: the URL keeps its host name, so the
Host header, TLS SNI and certificate verification all use the name as usual, but the TCP
connection is opened by a network backend of our own under httpcore. For each new
connection it resolves the name once, checks every address it got and connects to one of
those very addresses. There is no second lookup between the check and the connection for
a rebinding DNS server to answer differently, and every redirect hop goes through the
same backend. Proxies from the environment are not used (trust_env off), since through a
proxy the check would be of the proxy's address, not the target's.
"""

from __future__ import annotations

import asyncio
import html
import ipaddress
import re
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from email.message import Message
from urllib.parse import unquote

import httpcore
import httpx

from adapters.fetching.addresses import AddressPolicy, IPAddress
from adapters.fetching.failures import in_words
from application.ports.documents import FetchedDocument
from domain.errors import FetchError, InvalidInputError, PayloadTooLargeError

USER_AGENT = "ChatConnect-Fetcher/0.1 (document ingestion for a website chat widget)"
ACCEPT = (
    "text/html,application/xhtml+xml,application/pdf,text/markdown,text/plain,"
    "application/vnd.openxmlformats-officedocument.*;q=0.9,*/*;q=0.8"
)
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
TITLE_SCAN_BYTES = 64 * 1024
_TITLE = re.compile(rb"<title\b[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_HTML_START = re.compile(
    rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html)\b", re.IGNORECASE | re.DOTALL
)

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]


async def system_resolve(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for a host, in its order, deduplicated."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _CheckedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks, then connects to the address it checked."""

    def __init__(self, policy: AddressPolicy, resolve: Resolver) -> None:
        self._policy = policy
        self._resolve = resolve
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._addresses(host, port)
        # Every address must pass: a name with one public and one private address is
        # refused, rather than hoping the connection picks the public one.
        for address in addresses:
            self._policy.check(host, address)
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        assert failure is not None
        raise failure

    async def _addresses(self, host: str, port: int) -> list[IPAddress]:
        try:
            found = await self._resolve(host, port)
        except socket.gaierror as error:
            raise FetchError(
                f"could not resolve {host}: {error.strerror or error}", details={"host": host}
            ) from None
        if not found:
            raise FetchError(f"could not resolve {host}: no address", details={"host": host})
        try:
            return [ipaddress.ip_address(address) for address in found]
        except ValueError as error:
            raise FetchError(f"could not resolve {host}: {error}") from None

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise InvalidInputError("unix sockets cannot be fetched")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _CheckedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, with its connection pool built on the checking backend.

    httpx 0.28 has no parameter for the network backend, so the pool it builds is
    replaced; `_pool` is what its request handling uses (pinned in requirements.lock, and
    the contract tests fail if connections stop going through the backend)."""

    def __init__(self, backend: httpcore.AsyncNetworkBackend, ssl_context: ssl.SSLContext) -> None:
        super().__init__(verify=ssl_context, trust_env=False, http1=True, http2=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=4,
            max_keepalive_connections=2,
            http1=True,
            http2=False,
            network_backend=backend,
        )


class HttpFetcher:
    """`DocumentFetcher` over HTTP(S).

    - `timeout`: seconds for the whole fetch, redirects, connecting and reading included;
    - `max_bytes`: the largest body accepted (refused early on a larger Content-Length,
      otherwise as soon as the streamed body passes it);
    - `max_redirects`: hops followed, each checked like the first URL;
    - `allow_private`: also reach loopback and private networks (development, tests);
    - `allowed_networks`: CIDRs reachable even though not public (an intranet wiki);
    - cloud metadata addresses are refused whatever the configuration.
    """

    def __init__(
        self,
        *,
        timeout: float = 15.0,
        max_bytes: int = 20 * 1024 * 1024,
        max_redirects: int = 5,
        allow_private: bool = False,
        allowed_networks: Iterable[str] = (),
        user_agent: str = USER_AGENT,
        ssl_context: ssl.SSLContext | None = None,
        resolve: Resolver = system_resolve,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        if max_redirects < 0:
            raise ValueError("max_redirects must not be negative")
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._max_redirects = max_redirects
        self._policy = AddressPolicy(allow_private=allow_private, allowed_networks=allowed_networks)
        self._headers = {"User-Agent": user_agent, "Accept": ACCEPT, "Accept-Encoding": "identity"}
        self._ssl_context = ssl_context or httpx.create_ssl_context()
        self._resolve = resolve

    async def fetch(self, url: str) -> FetchedDocument:
        target = _http_url(url)
        backend = _CheckedBackend(self._policy, self._resolve)
        transport = _CheckedTransport(backend, self._ssl_context)
        try:
            async with (
                asyncio.timeout(self._timeout),
                httpx.AsyncClient(
                    transport=transport,
                    headers=self._headers,
                    timeout=self._timeout,
                    follow_redirects=False,
                    trust_env=False,
                ) as client,
            ):
                return await self._follow(client, target)
        except (TimeoutError, httpx.TimeoutException):
            raise FetchError(
                f"timed out after {self._timeout:g} s fetching {target}", details={"url": url}
            ) from None

    async def _follow(self, client: httpx.AsyncClient, url: httpx.URL) -> FetchedDocument:
        for _ in range(self._max_redirects + 1):
            async with _answer(client, url) as response:
                if response.is_redirect:
                    url = _redirect_target(response)
                    continue
                if not response.is_success:
                    status = f"{response.status_code} {response.reason_phrase}".strip()
                    raise FetchError(
                        f"{_where(url)} answered {status}",
                        details={"url": str(url), "status": response.status_code},
                    )
                content = await self._body(response)
                content_type = _media_type(response.headers.get("content-type"))
                return FetchedDocument(
                    content=content,
                    content_type=content_type or "application/octet-stream",
                    url=str(response.url),
                    title=_title(content, content_type, response),
                )
        raise FetchError(
            f"{_where(url)} redirected more than {self._max_redirects} times",
            details={"url": str(url)},
        )

    async def _body(self, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > self._max_bytes:
            raise _too_large(response.url, self._max_bytes, size=int(declared))
        body = bytearray()
        try:
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > self._max_bytes:
                    raise _too_large(response.url, self._max_bytes)
        except httpx.TimeoutException:
            raise
        except (httpx.TransportError, httpx.DecodingError) as error:
            raise FetchError(
                f"{_where(response.url)} broke off its answer: {in_words(error)}"
            ) from None
        return bytes(body)


@asynccontextmanager
async def _answer(client: httpx.AsyncClient, url: httpx.URL) -> AsyncIterator[httpx.Response]:
    """Sends one GET, translating transport failures; closes the response at exit."""
    try:
        response = await client.send(client.build_request("GET", url), stream=True)
    except httpx.TimeoutException:
        raise
    except httpx.ConnectError as error:
        raise FetchError(
            f"could not connect to {_where(url)}: {in_words(error)}", details={"url": str(url)}
        ) from None
    except httpx.HTTPError as error:
        raise FetchError(
            f"could not fetch {url}: {in_words(error)}", details={"url": str(url)}
        ) from None
    try:
        yield response
    finally:
        await response.aclose()


def _redirect_target(response: httpx.Response) -> httpx.URL:
    try:
        target = response.url.join(response.headers["location"])
    except httpx.InvalidURL as error:
        raise FetchError(
            f"{_where(response.url)} redirected to an invalid URL: {error}",
            details={"url": str(response.url)},
        ) from None
    return _http_url(str(target))


def _http_url(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, TypeError) as error:
        raise InvalidInputError(f"not a valid URL: {error}", details={"field": "url"}) from None
    if not parsed.scheme:
        raise InvalidInputError(
            "give a full URL, such as https://example.com/page", details={"field": "url"}
        )
    if parsed.scheme not in ("http", "https"):
        raise InvalidInputError(
            f"only http and https URLs can be fetched, not {parsed.scheme}:",
            details={"field": "url"},
        )
    if not parsed.host:
        raise InvalidInputError("the URL names no host", details={"field": "url"})
    return parsed


def _where(url: httpx.URL) -> str:
    default = {"http": 80, "https": 443}[url.scheme]
    host = f"[{url.host}]" if ":" in url.host else url.host
    return host if url.port in (None, default) else f"{host}:{url.port}"


def _size(count: int) -> str:
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count} bytes"


def _too_large(url: httpx.URL, limit: int, *, size: int | None = None) -> PayloadTooLargeError:
    what = f"is {_size(size)}, more than" if size is not None else "is larger than"
    return PayloadTooLargeError(
        f"the document at {url} {what} the {_size(limit)} that can be fetched",
        details={"url": str(url), "max_bytes": limit},
    )


def _media_type(header: str | None) -> str:
    return (header or "").split(";", 1)[0].strip().lower()


def _title(content: bytes, content_type: str, response: httpx.Response) -> str | None:
    """The HTML <title>, else the file name the server gave, else the URL's last path
    segment, else its host."""
    head = content[:TITLE_SCAN_BYTES]
    if content_type in HTML_TYPES or (content_type in GENERIC_TYPES and _HTML_START.match(head)):
        found = _TITLE.search(head)
        if found:
            text = _decode(found.group(1), response.charset_encoding)
            title = " ".join(html.unescape(text).split())
            if title:
                return title[:300]
    disposition = response.headers.get("content-disposition")
    if disposition:
        message = Message()
        message["content-disposition"] = disposition
        filename = message.get_filename()
        if filename and filename.strip():
            return filename.strip()
    segment = unquote(response.url.path.rstrip("/").rsplit("/", 1)[-1]).strip()
    return segment or response.url.host or None


def _decode(raw: bytes, charset: str | None) -> str:
    try:
        return raw.decode(charset or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return raw.decode("utf-8", errors="replace")
