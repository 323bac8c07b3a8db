"""Chat events as Server-Sent Events, with heartbeats while the model is quiet."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import msgspec
import structlog
from litestar.openapi import ResponseSpec

from application.chat.events import (
    ChatEvent,
    ChatFinished,
    ChatStarted,
    SourcesFound,
    TokenDelta,
)
from domain.errors import ChatConnectError
from entrypoints.http.stream_schema import ChatStreamEvent, ErrorEvent

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

EVENTS_DESCRIPTION = """
`text/event-stream`: each event is an `event:` line naming it, a `data:` line holding one
JSON object, and a blank line. In order:

- `start` `{"conversation_id", "message_id", "model"}`: `model` is the model planned first;
  after a failover another may answer, which `done` names.
- `sources` `{"sources": [{"index", "document_id", "title", "section", "snippet", "score",
  "page"}]}`: what the answer cites as `[n]`; empty when nothing relevant was found.
- `token` `{"text"}`, repeated: the answer, piece by piece.
- `done` `{"usage": {"input_tokens", "output_tokens", "cost_usd"}, "finish_reason",
  "model", "cached"}`: `model` is the model that answered, the one to show and account for;
  `finish_reason` is `stop`, or `no_answer` when the widget's no-answer message was said.

At any point instead: `error` `{"code", "message"}` (e.g. `model_unavailable` when no model
could answer, `answer_interrupted` when one broke off mid-answer; what was said is kept),
after which the stream ends. A comment line (`: heartbeat`) comes every 15 s while the
model is quiet. A visitor who disconnects cancels the answer; what was said is saved and
billed.
""".strip()
STREAM_RESPONSE = ResponseSpec(
    data_container=ChatStreamEvent,
    media_type="text/event-stream",
    description=EVENTS_DESCRIPTION,
    generate_examples=False,
)
STREAM_REFUSED = ResponseSpec(
    data_container=ErrorEvent,
    media_type="text/event-stream",
    description="A rate limit or the monthly allowance is reached (see `Retry-After`): the "
    'body is one `error` event, `{"code": "rate_limited"|"quota_exceeded", "message"}`.',
    generate_examples=False,
)


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


class _Heartbeat:
    """One timer per stream, not one per token: it fires once per period and puts a
    heartbeat in the queue only when nothing was sent for a whole period."""

    def __init__(self, queue: asyncio.Queue[object], seconds: float) -> None:
        self._queue = queue
        self._seconds = seconds
        self._loop = asyncio.get_running_loop()
        self.last_sent = self._loop.time()
        self._timer = self._loop.call_at(self.last_sent + seconds, self._fire)

    def _fire(self) -> None:
        now = self._loop.time()
        if now - self.last_sent >= self._seconds:
            with contextlib.suppress(asyncio.QueueFull):  # full: frames are flowing anyway
                self._queue.put_nowait(HEARTBEAT)
            self.last_sent = now
        self._timer = self._loop.call_at(self.last_sent + self._seconds, self._fire)

    def sent(self) -> None:
        self.last_sent = self._loop.time()

    def cancel(self) -> None:
        self._timer.cancel()


async def sse_frames(
    events: AsyncIterator[ChatEvent], heartbeat_seconds: float = 15.0
) -> AsyncIterator[bytes]:
    """The events as SSE bytes. Frames that piled up while the client (or this worker) was
    behind go out together in one write: a slow reader gets fewer, larger writes instead of
    one per token."""
    # A producer task lets the heartbeat speak while the answer is quiet: cancelling the
    # event generator mid-await would end the answer.
    queue: asyncio.Queue[object] = asyncio.Queue(maxsize=64)
    producer = asyncio.create_task(_produce(events, queue))
    heartbeat = _Heartbeat(queue, heartbeat_seconds)
    try:
        while True:
            item = await queue.get()
            if item is _DONE:
                return
            if queue.empty():
                assert isinstance(item, bytes)
                heartbeat.sent()
                yield item
                continue
            batch = [item]
            while not queue.empty():
                item = queue.get_nowait()
                if item is _DONE:
                    break
                batch.append(item)
            heartbeat.sent()
            yield b"".join(b for b in batch if isinstance(b, bytes))
            if item is _DONE:
                return
    finally:
        heartbeat.cancel()
        # The visitor left (or we are done): stop generating; the use case still saves.
        producer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(producer)
