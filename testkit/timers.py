"""Counting the timers code schedules on the running event loop: a per-token timer is the
cost a streaming path must not pay."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class TimerCount:
    scheduled: int = 0


@contextmanager
def counting_timers() -> Iterator[TimerCount]:
    """Counts every `call_at` on the running loop inside the block (`call_later` and
    `asyncio.timeout` go through it)."""
    loop = asyncio.get_running_loop()
    call_at = loop.call_at
    count = TimerCount()

    def counting(*args: object, **kwargs: object) -> asyncio.TimerHandle:
        count.scheduled += 1
        return call_at(*args, **kwargs)  # type: ignore[arg-type]

    loop.call_at = counting  # type: ignore[method-assign]
    try:
        yield count
    finally:
        loop.call_at = call_at  # type: ignore[method-assign]
