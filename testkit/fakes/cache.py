"""A cache that is down: every call fails as an unreachable Redis would."""

from __future__ import annotations

from collections.abc import Sequence

from domain.errors import CacheUnavailableError
from domain.rate_windows import RateCheck, RateRefusal, SlidingWindow


class DownCache:
    def __init__(self) -> None:
        self.calls = 0

    def _fail(self) -> CacheUnavailableError:
        self.calls += 1
        return CacheUnavailableError("the cache is unavailable")

    async def get(self, key: str) -> bytes | None:
        raise self._fail()

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        raise self._fail()

    async def delete(self, key: str) -> None:
        raise self._fail()

    async def delete_prefix(self, prefix: str) -> int:
        raise self._fail()

    async def take(
        self, checks: Sequence[RateCheck], window: SlidingWindow, now: float
    ) -> RateRefusal | None:
        raise self._fail()

    async def ping(self) -> None:
        raise self._fail()
