"""The providers' HTTP transport (adapters/providers/transport.py): keep-alive with an O(1)
pool, a connection the server closed while idle replaced unseen, httpx's timeouts and
errors, bodies by length, chunks or close, and the SDK's client built on it."""

from __future__ import annotations

import asyncio
import gzip
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx2
import pytest

from adapters.llm.catalog import ProviderConfig, anthropic_client, openai_client
from adapters.providers.transport import LeanTransport

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            await reader.readexactly(int(line.split(b":")[1]))
    return head


class _Server:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.url = ""

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.handler(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[_Server]]]:
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> _Server:
        server = _Server(handler)
        listening = await asyncio.start_server(server._serve, "127.0.0.1", 0)
        servers.append(listening)
        server.url = f"http://127.0.0.1:{listening.sockets[0].getsockname()[1]}"
        return server

    yield start
    for listening in servers:
        listening.close()


def _client(**timeouts: float) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(
        transport=LeanTransport(),
        timeout=httpx2.Timeout(5.0, **timeouts),  # type: ignore[arg-type]
    )


async def _keep_alive(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()


async def test_one_connection_serves_requests_one_after_another(serve) -> None:  # type: ignore[no-untyped-def]
    server = await serve(_keep_alive)
    async with _client() as client:
        for _ in range(5):
            response = await client.post(server.url + "/v1/x", content=b"{}")
            assert (response.status_code, response.text) == (200, "ok")
    assert server.connections == 1


async def test_a_connection_the_server_closed_while_idle_is_replaced_unseen(serve) -> None:  # type: ignore[no-untyped-def]
    async def once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()  # then closes, with no `Connection: close` said

    server = await serve(once)
    async with _client() as client:
        assert (await client.get(server.url)).text == "ok"
        await asyncio.sleep(0.05)
        assert (await client.get(server.url)).text == "ok"
    assert server.connections == 2


async def test_a_chunked_stream_is_read_as_it_comes_and_the_connection_reused(serve) -> None:  # type: ignore[no-untyped-def]
    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await _read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            for piece in (b"data: 1\n\n", b"data: 2\n\n"):
                writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                await writer.drain()
                await asyncio.sleep(0.02)
            writer.write(b"0\r\n\r\n")
            await writer.drain()

    server = await serve(chunked)
    async with _client() as client:
        for _ in range(2):
            async with client.stream("POST", server.url, content=b"{}") as response:
                pieces = [piece async for piece in response.aiter_bytes()]
            assert pieces == [b"data: 1\n\n", b"data: 2\n\n"]
    assert server.connections == 1


async def test_a_silent_server_is_a_read_timeout(serve) -> None:  # type: ignore[no-untyped-def]
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        await writer.drain()
        await asyncio.sleep(5)

    server = await serve(silent)
    started = time.perf_counter()
    async with _client(read=0.3) as client, client.stream("GET", server.url) as response:
        with pytest.raises(httpx2.ReadTimeout):
            async for _ in response.aiter_bytes():
                pass
    assert 0.25 < time.perf_counter() - started < 2


async def test_a_body_cut_short_is_a_protocol_error(serve) -> None:  # type: ignore[no-untyped-def]
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel")
        await writer.drain()

    server = await serve(cut)
    async with _client() as client:
        with pytest.raises(httpx2.RemoteProtocolError):
            await client.get(server.url)


async def test_no_server_is_a_connect_error() -> None:
    async with _client() as client:
        with pytest.raises(httpx2.ConnectError):
            await client.get("http://127.0.0.1:1/")


async def test_a_gzipped_body_is_decoded_and_a_body_until_close_read_whole(serve) -> None:  # type: ignore[no-untyped-def]
    packed = gzip.compress(b'{"ok": true}')

    async def zipped(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n" + packed)
        await writer.drain()

    server = await serve(zipped)
    async with _client() as client:
        assert (await client.get(server.url)).json() == {"ok": True}


def test_the_provider_clients_use_it_unless_a_proxy_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in (
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    config = ProviderConfig(openai_api_key="sk-test", anthropic_api_key="sk-ant-test")
    assert isinstance(openai_client(config)._client._transport, LeanTransport)
    assert isinstance(anthropic_client(config)._client._transport, LeanTransport)

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    assert not isinstance(openai_client(config)._client._transport, LeanTransport)
    assert not isinstance(anthropic_client(config)._client._transport, LeanTransport)


async def test_idle_connections_the_server_closed_do_not_pile_up(serve) -> None:  # type: ignore[no-untyped-def]
    opened = 0

    async def some_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal opened
        opened += 1
        closes = opened % 4 != 0  # three in four connections are closed while idle
        while True:
            await _read_request(reader)
            await asyncio.sleep(0.01 * (opened % 7))  # answered in a mixed order
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
            if closes:
                await asyncio.sleep(0.05)
                return

    server = await serve(some_close)
    transport = LeanTransport()
    key = ("http", "127.0.0.1", int(server.url.rsplit(":", 1)[1]))
    async with httpx2.AsyncClient(transport=transport) as client:
        await asyncio.gather(*(client.get(server.url) for _ in range(16)))
        await asyncio.sleep(0.2)  # 12 of the 16 idle connections are closed by now
        for _ in range(8):
            assert (await client.get(server.url)).text == "ok"
        idle = transport._idle[key]
        assert all(connection.usable() for connection in idle)
