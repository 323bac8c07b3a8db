"""The chat stream as SSE bytes: heartbeats while the model is quiet from one timer per
stream (not one per token), and frames that piled up behind a slow reader sent together."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from application.chat.events import ChatEvent, TokenDelta
from entrypoints.http.sse import HEARTBEAT, sse_frames
from testkit.timers import counting_timers


async def _tokens(count: int, pause: float = 0.0) -> AsyncIterator[ChatEvent]:
    for n in range(count):
        if pause:
            await asyncio.sleep(pause)
        else:
            await asyncio.sleep(0)  # a provider's chunk arriving: one loop turn each
        yield TokenDelta(f"t{n} ")


def _count_tokens(data: bytes) -> int:
    return data.count(b"event: token\n")


async def test_a_quiet_model_gets_heartbeats_and_the_answer_follows() -> None:
    async def slow() -> AsyncIterator[ChatEvent]:
        await asyncio.sleep(0.35)
        yield TokenDelta("late")

    writes = [w async for w in sse_frames(slow(), heartbeat_seconds=0.1)]

    assert writes.count(HEARTBEAT) >= 2
    assert _count_tokens(b"".join(writes)) == 1
    assert writes[-1].startswith(b"event: token")


async def test_no_heartbeat_while_tokens_flow() -> None:
    writes = [w async for w in sse_frames(_tokens(30, pause=0.01), heartbeat_seconds=0.05)]

    assert HEARTBEAT not in writes
    assert _count_tokens(b"".join(writes)) == 30


async def test_one_timer_per_stream_however_many_tokens() -> None:
    with counting_timers() as timers:
        writes = [w async for w in sse_frames(_tokens(200), heartbeat_seconds=15)]

    assert _count_tokens(b"".join(writes)) == 200
    assert timers.scheduled <= 2


async def test_a_slow_reader_gets_the_piled_up_tokens_in_fewer_writes() -> None:
    writes = []
    async for write in sse_frames(_tokens(200), heartbeat_seconds=15):
        writes.append(write)
        await asyncio.sleep(0.002)  # the client (or the socket) behind the model

    assert _count_tokens(b"".join(writes)) == 200
    assert len(writes) < 100
    assert all(w.endswith(b"\n\n") for w in writes)  # whole events only


async def test_a_reader_that_keeps_up_gets_each_token_as_it_comes() -> None:
    writes = [w async for w in sse_frames(_tokens(20, pause=0.005), heartbeat_seconds=15)]

    assert [_count_tokens(w) for w in writes] == [1] * 20
