"""The answer's deadline (adapters/providers/retries.py): one timer per answer however
many tokens, that interrupts only a wait for the provider and never the visitor's side."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from adapters.providers.breaker import CircuitBreaker
from adapters.providers.errors import AnswerInterruptedError
from adapters.providers.retries import Item, Resilience, guarded_stream
from testkit.fakes.telemetry import RecordingTelemetry
from testkit.timers import counting_timers

POLICY = Resilience(attempts=1, first_token_seconds=1.0, total_seconds=0.3)


def _guarded(items: AsyncIterator[Item], policy: Resilience = POLICY) -> AsyncIterator[Item]:
    telemetry = RecordingTelemetry()
    breaker = CircuitBreaker("stub", telemetry=telemetry, failures=5, reset_seconds=30)
    return guarded_stream(lambda: items, policy, breaker, telemetry)


async def _tokens(count: int, stall_after: int | None = None) -> AsyncIterator[Item]:
    for n in range(count):
        if n == stall_after:
            await asyncio.sleep(10)
        await asyncio.sleep(0)
        yield f"t{n}"


async def test_one_timer_per_answer_however_many_tokens() -> None:
    with counting_timers() as timers:
        seen = [item async for item in _guarded(_tokens(200), Resilience(total_seconds=30))]

    assert len(seen) == 200
    assert timers.scheduled <= 3  # the first token's wait, the answer's deadline


async def test_a_provider_stalled_past_the_deadline_interrupts_the_answer() -> None:
    seen: list[Item] = []
    started = time.perf_counter()
    with pytest.raises(AnswerInterruptedError, match="in time"):
        async for item in _guarded(_tokens(50, stall_after=3)):
            seen.append(item)
    assert seen == ["t0", "t1", "t2"]
    assert 0.25 < time.perf_counter() - started < 2


async def test_the_deadline_never_cancels_what_the_reader_does_between_tokens() -> None:
    seen: list[Item] = []
    with pytest.raises(AnswerInterruptedError):
        async for item in _guarded(_tokens(50)):
            seen.append(item)
            await asyncio.sleep(0.5)  # e.g. a slow visitor: the deadline passes in here
    assert seen == ["t0"]  # the sleep was not cut short; the next wait failed at once


async def test_a_visitor_hanging_up_still_cancels() -> None:
    async def read() -> None:
        async for _ in _guarded(_tokens(50, stall_after=2)):
            pass

    task = asyncio.create_task(read())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
