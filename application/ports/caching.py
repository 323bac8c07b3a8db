"""A shared cache: answers, vectors, widgets, history and the counters of rate limits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.rate_windows import RateCheck, RateRefusal, SlidingWindow


class Cache(Protocol):
    """Best-effort key/value store with TTLs and atomic counters."""

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def delete_prefix(self, prefix: str) -> int:
        """Deletes every key starting with `prefix`; returns how many. For erasure, not for
        hot paths: it walks the keys."""
        ...

    async def take(
        self, checks: Sequence[RateCheck], window: SlidingWindow, now: float
    ) -> RateRefusal | None:
        """Counts one hit in each check's sliding window (domain/rate_windows.py) if every
        one has room for it, else in none: atomically, in one round trip. `now` is the
        caller's clock, in seconds since the epoch."""
        ...

    async def ping(self) -> None: ...
