"""A TCP proxy in front of a service, to take it away and give it back mid-test."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

Connect = Callable[[], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]


def upstream_of(url: str) -> Connect:
    """How to reach a PostgreSQL URL's server: TCP, or pgserver's unix socket."""
    parts = urlsplit(url)
    socket_dir = parse_qs(parts.query).get("host", [None])[0]
    port = parts.port or 5432
    if socket_dir:
        return lambda: asyncio.open_unix_connection(f"{socket_dir}/.s.PGSQL.{port}")
    return lambda: asyncio.open_connection(parts.hostname or "127.0.0.1", port)


def through(url: str, port: int) -> str:
    """The same URL (user, database) reached over TCP on 127.0.0.1:port."""
    parts = urlsplit(url)
    user = parts.username or "postgres"
    password = f":{parts.password}" if parts.password else ""
    return urlunsplit(("postgresql", f"{user}{password}@127.0.0.1:{port}", parts.path, "", ""))


class Proxy:
    """`cut()` drops every connection and refuses new ones; `freeze()` keeps connections
    open but forwards nothing (a hung server); `restore()` brings the service back."""

    def __init__(self, upstream: Connect) -> None:
        self._upstream = upstream
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for pipe in list(self._pipes):
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    def freeze(self) -> None:
        self._flowing.clear()

    async def restore(self) -> None:
        self._flowing.set()
        if self._server is None:
            await self.start()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._pipes.add(task)
        up_writer: asyncio.StreamWriter | None = None
        try:
            up_reader, up_writer = await self._upstream()
            await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            self._pipes.discard(task)
            for end in (writer, up_writer):
                if end is not None:
                    with contextlib.suppress(OSError):
                        end.close()

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        while data := await source.read(65536):
            await self._flowing.wait()
            sink.write(data)
            await sink.drain()
        sink.close()


class ThreadedProxy:
    """The Proxy on its own event loop and thread, so it keeps forwarding while the test's
    loop is blocked (Litestar's test client runs the app on a portal thread and waits)."""

    def __init__(self, upstream: Connect) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._proxy = Proxy(upstream)
        self._run(self._proxy.start())

    @property
    def port(self) -> int:
        return self._proxy.port

    def _run(self, coroutine: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    def cut(self) -> None:
        self._run(self._proxy.cut())

    def freeze(self) -> None:
        self._loop.call_soon_threadsafe(self._proxy.freeze)

    def restore(self) -> None:
        self._run(self._proxy.restore())

    def close(self) -> None:
        self._run(self._proxy.restore())  # frozen pipes must drain before they can end
        self._run(self._proxy.cut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
