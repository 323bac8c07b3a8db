"""An in-process cache: TTLs, atomic counters and sliding windows, bounded size."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence

from domain.rate_windows import RateCheck, RateRefusal, SlidingWindow, take

Value = bytes | dict[int, int]


class MemoryCache:
    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: OrderedDict[str, tuple[float, Value]] = OrderedDict()
        self._max = max_entries

    def _live(self, key: str) -> Value | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires <= time.monotonic():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def _put(self, key: str, value: Value, expires: float) -> None:
        self._entries[key] = (expires, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    async def get(self, key: str) -> bytes | None:
        value = self._live(key)
        return value if isinstance(value, bytes) else None

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        self._put(key, value, time.monotonic() + ttl_seconds)

    async def delete(self, key: str) -> None:
        self._entries.pop(key, None)

    async def delete_prefix(self, prefix: str) -> int:
        doomed = [key for key in self._entries if key.startswith(prefix)]
        for key in doomed:
            del self._entries[key]
        return len(doomed)

    async def take(
        self, checks: Sequence[RateCheck], window: SlidingWindow, now: float
    ) -> RateRefusal | None:
        # No await from the first read to the last write: atomic on the event loop.
        windows: list[dict[int, int]] = []
        for check in checks:
            counts = self._live(check.key)
            windows.append(counts if isinstance(counts, dict) else {})
        refused = take(windows, [check.limit for check in checks], window, now)
        if refused is None:
            expires = time.monotonic() + window.ttl_seconds
            for check, counts in zip(checks, windows, strict=True):
                self._put(check.key, counts, expires)
        return refused

    async def ping(self) -> None:
        return None
