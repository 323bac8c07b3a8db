"""Questions embedded together: concurrent one-text requests share one provider request.

Group commit, for embeddings: a text that arrives while `max_in_flight` requests are out
waits for the next one, which carries every text that waited meanwhile. Alone, a
question goes at once (no added delay); under load, a thousand questions make a few
dozen requests instead of a thousand, and each request's fixed cost (the SDK, HTTP, the
provider's round trip) is paid once per batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

Send = Callable[[Sequence[str]], Awaitable[list[list[float]]]]


class Coalescer:
    def __init__(self, send: Send, *, max_batch: int = 256, max_in_flight: int = 4) -> None:
        self._send = send
        self._max_batch = max_batch
        self._max_in_flight = max_in_flight
        self._waiting: list[tuple[str, asyncio.Future[list[float]]]] = []
        self._in_flight = 0
        self._senders: set[asyncio.Task[None]] = set()  # held: the loop keeps tasks weakly

    async def one(self, text: str) -> list[float]:
        future: asyncio.Future[list[float]] = asyncio.get_running_loop().create_future()
        self._waiting.append((text, future))
        if self._in_flight < self._max_in_flight:
            self._in_flight += 1
            sender = asyncio.get_running_loop().create_task(self._drain())
            self._senders.add(sender)
            sender.add_done_callback(self._senders.discard)
        return await future

    async def _drain(self) -> None:
        """Sends what waits, batch after batch, until nothing does."""
        try:
            while self._waiting:
                batch = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                batch = [(text, future) for text, future in batch if not future.done()]
                if not batch:
                    continue
                try:
                    vectors = await self._send([text for text, _ in batch])
                except Exception as error:  # every waiter hears how its request failed
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                except BaseException as error:
                    for _, future in batch:
                        if not future.done():
                            future.cancel()
                    raise error
                for (_, future), vector in zip(batch, vectors, strict=True):
                    if not future.done():  # a visitor who left no longer waits
                        future.set_result(vector)
        finally:
            self._in_flight -= 1
