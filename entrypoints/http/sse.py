"""Chat events as Server-Sent Events, with heartbeats while the model is quiet."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import msgspec
import structlog

from application.chat.events import (
    ChatEvent,
    ChatFinished,
    ChatStarted,
    SourcesFound,
    TokenDelta,
)
from domain.errors import ChatConnectError

log = structlog.get_logger()

HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
HEARTBEAT = b": heartbeat\n\n"
EVENT_NAMES: dict[type, bytes] = {
    ChatStarted: b"start",
    SourcesFound: b"sources",
    TokenDelta: b"token",
    ChatFinished: b"done",
}
_encode = msgspec.json.Encoder().encode
_DONE = object()


def frame(name: bytes, payload: object) -> bytes:
    return b"event: " + name + b"\ndata: " + _encode(payload) + b"\n\n"


def error_frame(code: str, message: str) -> bytes:
    return frame(b"error", {"code": code, "message": message})


async def _produce(events: AsyncIterator[ChatEvent], queue: asyncio.Queue[object]) -> None:
    tail: bytes | None = None
    try:
        async for event in events:
            await queue.put(frame(EVENT_NAMES[type(event)], event))
    except ChatConnectError as error:
        tail = error_frame(error.code, error.message)
    except Exception:
        log.exception("chat_stream_failed")
        tail = error_frame("internal_error", "the answer could not be completed")
    if tail is not None:
        await queue.put(tail)
    await queue.put(_DONE)


async def sse_frames(
    events: AsyncIterator[ChatEvent], heartbeat_seconds: float = 15.0
) -> AsyncIterator[bytes]:
    # A producer task lets us wait on a queue with a timeout: cancelling a queue read is
    # harmless, cancelling the event generator mid-await would end the answer.
    queue: asyncio.Queue[object] = asyncio.Queue(maxsize=64)
    producer = asyncio.create_task(_produce(events, queue))
    try:
        while True:
            try:
                async with asyncio.timeout(heartbeat_seconds):
                    item = await queue.get()
            except TimeoutError:
                yield HEARTBEAT
                continue
            if item is _DONE:
                return
            assert isinstance(item, bytes)
            yield item
    finally:
        # The visitor left (or we are done): stop generating; the use case still saves.
        producer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(producer)
