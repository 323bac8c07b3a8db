"""A provider's recorded stream, replayed to an SDK through its own HTTP client: the body
cut into pieces of one size, so a reader meets every split of lines and events."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2

# Byte by byte, odd splits, a typical read, the whole body at once.
SIZES = (1, 7, 64, 100_000)


def pieces(body: bytes, size: int) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)] or [b""]


class RecordedStream(httpx2.AsyncBaseTransport):
    """Answers every request with `body` as a 200 event stream, `size` bytes at a time."""

    def __init__(self, body: bytes, size: int) -> None:
        self._body, self._size = body, size

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        cut = pieces(self._body, self._size)

        async def stream() -> AsyncIterator[bytes]:
            for piece in cut:
                yield piece

        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=stream())
