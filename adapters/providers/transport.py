"""An HTTP/1.1 transport for the provider SDKs whose cost does not grow with the number of
streams in flight.

httpx's own pool (httpcore) walks every connection it holds, probing each idle socket,
whenever a request starts or a response closes: with 1,000 answers streaming that walk
was 8 % of the service's CPU samples (docs/profiles/, issue 19). Here idle
connections wait in a stack per origin and are taken and given back in O(1); a
connection the server closed while idle is seen by its reader's end-of-file and dropped.

It carries what the SDKs send: a request with its body in memory, a response read
incrementally (Content-Length, chunked, or until close), TLS by the system's (certifi's)
roots. Timeouts are httpx's: connect, write, and read as the longest silence, watched by
one timer per response that is re-armed only when it fires (not one per read). Errors
are httpx's (ConnectError, ReadTimeout, RemoteProtocolError...), so the SDKs translate
them as ever. A request that finds its reused connection closed before any byte of the
answer is sent again once on a new one, as httpcore does.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from typing import Any

import httpx2

_NO_BODY = frozenset({204, 304})
_LIMIT = 1024 * 1024  # the longest header block or chunk-size line we read


def proxy_configured() -> bool:
    """Whether the environment names a proxy: then httpx's own transport is used."""
    names = ("https_proxy", "http_proxy", "all_proxy")
    return any(os.environ.get(n) or os.environ.get(n.upper()) for n in names)


def _ssl_context() -> ssl.SSLContext:
    try:
        import certifi

        return ssl.create_default_context(cafile=certifi.where())
    except ImportError:  # pragma: no cover - certifi comes with httpx
        return ssl.create_default_context()


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.reused = False
        self._loop = asyncio.get_running_loop()
        self._watch: asyncio.TimerHandle | None = None
        self._read_timeout: float | None = None
        self._last_read = 0.0
        self.timed_out = False

    def usable(self) -> bool:
        return not (self.writer.is_closing() or self.reader.at_eof())

    def close(self) -> None:
        self.stop_watch()
        self.writer.close()

    async def aclose(self) -> None:
        """Closed when this returns: the server sees the hang-up now, not at the loop's
        next turn (which a caller that blocks right after would delay)."""
        self.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()

    # A read timeout as the longest silence, with one timer that fires at most once per
    # timeout: reads only note when they happened.
    def watch(self, timeout: float | None) -> None:
        self._read_timeout = timeout
        self._last_read = self._loop.time()
        if timeout is not None and self._watch is None:
            self._watch = self._loop.call_at(self._last_read + timeout, self._check)

    def read_now(self) -> None:
        self._last_read = self._loop.time()

    def _check(self) -> None:
        self._watch = None
        assert self._read_timeout is not None
        due = self._last_read + self._read_timeout
        if self._loop.time() >= due:
            self.timed_out = True
            self.writer.transport.abort()
        else:
            self._watch = self._loop.call_at(due, self._check)

    def stop_watch(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None


class _Body(httpx2.AsyncByteStream):
    def __init__(
        self,
        transport: LeanTransport,
        key: tuple[str, str, int],
        connection: _Connection,
        length: int | None,
        chunked: bool,
        keep_alive: bool,
    ) -> None:
        self._transport = transport
        self._key = key
        self._connection = connection
        self._length = length
        self._chunked = chunked
        self._keep_alive = keep_alive
        self._complete = False
        self._released = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        connection = self._connection
        reader = connection.reader
        try:
            if self._chunked:
                while True:
                    line = await reader.readuntil(b"\r\n")
                    size = int(line.split(b";", 1)[0], 16)
                    if size == 0:
                        while await reader.readuntil(b"\r\n") != b"\r\n":
                            pass  # trailers
                        connection.read_now()
                        break
                    data = await reader.readexactly(size + 2)
                    connection.read_now()
                    yield data[:-2]
            elif self._length is not None:
                left = self._length
                while left > 0:
                    data = await reader.read(min(left, 65536))
                    if not data:
                        raise httpx2.RemoteProtocolError("the server closed mid-body")
                    connection.read_now()
                    left -= len(data)
                    yield data
            else:
                while data := await reader.read(65536):
                    connection.read_now()
                    yield data
                self._keep_alive = False
            self._complete = True
        except (asyncio.IncompleteReadError, ConnectionError, OSError, ValueError) as error:
            raise _read_error(connection, error) from error
        finally:
            if self._complete:
                await self.aclose()

    async def aclose(self) -> None:
        if self._released:
            return
        self._released = True
        self._connection.stop_watch()
        if self._complete and self._keep_alive:
            self._transport._give_back(self._key, self._connection)
        else:
            await self._connection.aclose()


def _read_error(connection: _Connection, error: BaseException) -> Exception:
    if connection.timed_out:
        return httpx2.ReadTimeout("no data from the server within the read timeout")
    if isinstance(error, asyncio.IncompleteReadError | ValueError):
        return httpx2.RemoteProtocolError(f"malformed or cut response: {error}")
    return httpx2.ReadError(str(error) or type(error).__name__)


class LeanTransport(httpx2.AsyncBaseTransport):
    def __init__(self, max_idle_per_origin: int = 1000) -> None:
        self._idle: defaultdict[tuple[str, str, int], deque[_Connection]] = defaultdict(deque)
        self._max_idle = max_idle_per_origin
        self._ssl: ssl.SSLContext | None = None

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        scheme = url.scheme
        if scheme not in ("http", "https"):
            raise httpx2.UnsupportedProtocol(f"{scheme!r} is not http or https")
        port = url.port or (443 if scheme == "https" else 80)
        key = (scheme, url.host, port)
        timeouts: dict[str, Any] = request.extensions.get("timeout", {})
        body = await request.aread()
        head = _request_head(request, body)
        for attempt in range(2):
            connection = await self._connection(key, timeouts.get("connect"))
            try:
                return await self._exchange(key, connection, head, body, request, timeouts)
            except _StaleConnection:
                connection.close()
                if attempt == 1:
                    raise httpx2.RemoteProtocolError("the server closed the connection") from None
        raise AssertionError("unreachable")

    async def _connection(self, key: tuple[str, str, int], connect_s: float | None) -> _Connection:
        idle = self._idle.get(key)
        while idle:
            connection = idle.pop()
            if connection.usable():
                connection.reused = True
                return connection
            connection.close()
        scheme, host, port = key
        if scheme == "https" and self._ssl is None:
            self._ssl = _ssl_context()
        try:
            async with asyncio.timeout(connect_s):
                reader, writer = await asyncio.open_connection(
                    host,
                    port,
                    ssl=self._ssl if scheme == "https" else None,
                    server_hostname=host if scheme == "https" else None,
                    limit=_LIMIT,
                )
        except TimeoutError:
            raise httpx2.ConnectTimeout(f"no connection to {host}:{port} in time") from None
        except OSError as error:
            raise httpx2.ConnectError(str(error) or type(error).__name__) from error
        return _Connection(reader, writer)

    async def _exchange(
        self,
        key: tuple[str, str, int],
        connection: _Connection,
        head: bytes,
        body: bytes,
        request: httpx2.Request,
        timeouts: dict[str, Any],
    ) -> httpx2.Response:
        try:
            connection.writer.write(head + body)
            async with asyncio.timeout(timeouts.get("write")):
                await connection.writer.drain()
        except TimeoutError:
            connection.close()
            raise httpx2.WriteTimeout("the request could not be sent in time") from None
        except (ConnectionError, OSError) as error:
            if connection.reused:
                raise _StaleConnection from error
            connection.close()
            raise httpx2.WriteError(str(error) or type(error).__name__) from error
        connection.watch(timeouts.get("read"))
        try:
            raw = await connection.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as error:
            if connection.reused and not error.partial:
                connection.stop_watch()
                raise _StaleConnection from error
            connection.close()
            raise _read_error(connection, error) from error
        except (ConnectionError, OSError, asyncio.LimitOverrunError, ValueError) as error:
            if (
                connection.reused
                and not connection.timed_out
                and isinstance(error, ConnectionError)
            ):
                connection.stop_watch()
                raise _StaleConnection from error
            connection.close()
            raise _read_error(connection, error) from error
        connection.read_now()
        status, headers = _parse_head(raw)
        fields = {name.lower(): value for name, value in headers}
        chunked = b"chunked" in fields.get(b"transfer-encoding", b"").lower()
        length = None if chunked else _length(fields)
        keep_alive = fields.get(b"connection", b"").lower() != b"close"
        if status in _NO_BODY or request.method == "HEAD" or 100 <= status < 200:
            length, chunked = 0, False
        stream = _Body(self, key, connection, length, chunked, keep_alive)
        return httpx2.Response(
            status,
            headers=headers,
            stream=stream,
            extensions={"http_version": b"HTTP/1.1"},
            request=request,
        )

    def _give_back(self, key: tuple[str, str, int], connection: _Connection) -> None:
        idle = self._idle[key]
        # The oldest idle connections are the likeliest the server closed: look at a couple
        # at each give-back, so dead sockets do not pile up under the live ones.
        for _ in range(min(2, len(idle))):
            oldest = idle.popleft()
            if oldest.usable():
                idle.append(oldest)  # still good: next in line, so every one gets used
            else:
                oldest.close()
        if len(idle) < self._max_idle and connection.usable():
            idle.append(connection)
        else:
            connection.close()

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
            idle.clear()


class _StaleConnection(Exception):
    """A reused connection the server had closed: the request never reached it."""


def _request_head(request: httpx2.Request, body: bytes) -> bytes:
    target = request.url.raw_path or b"/"
    lines = [request.method.encode() + b" " + target + b" HTTP/1.1"]
    names = set()
    for name, value in request.headers.raw:
        names.add(name.lower())
        lines.append(name + b": " + value)
    if b"host" not in names:
        lines.insert(1, b"Host: " + request.url.netloc)
    if body and b"content-length" not in names and b"transfer-encoding" not in names:
        lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _parse_head(raw: bytes) -> tuple[int, list[tuple[bytes, bytes]]]:
    status_line, *lines = raw[:-4].split(b"\r\n")
    parts = status_line.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise httpx2.RemoteProtocolError(f"not an HTTP/1.1 response: {status_line[:80]!r}")
    headers = []
    for line in lines:
        name, sep, value = line.partition(b":")
        if sep:
            headers.append((name.strip(), value.strip()))
    return int(parts[1]), headers


def _length(fields: dict[bytes, bytes]) -> int | None:
    value = fields.get(b"content-length")
    if value is None:
        return None
    with contextlib.suppress(ValueError):
        return int(value)
    raise httpx2.RemoteProtocolError(f"bad Content-Length: {value!r}")
