"""Using the cache without depending on it: a failing cache degrades, never breaks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from application.ports.caching import Cache
from application.ports.telemetry import Telemetry
from domain.errors import DependencyUnavailableError

T = TypeVar("T")


async def best_effort(call: Awaitable[T], fallback: T, telemetry: Telemetry, operation: str) -> T:
    try:
        return await call
    except DependencyUnavailableError:
        telemetry.cache_degraded(operation)
        return fallback


class ReadThrough:
    """One named cache in front of a slower source; what the source lacks is not cached."""

    def __init__(self, cache: Cache, telemetry: Telemetry, name: str, ttl_seconds: float) -> None:
        self._cache = cache
        self._telemetry = telemetry
        self._name = name
        self._ttl = ttl_seconds

    async def get(
        self,
        key: str,
        load: Callable[[], Awaitable[T | None]],
        encode: Callable[[T], bytes],
        decode: Callable[[bytes], T],
    ) -> T | None:
        raw = await best_effort(self._cache.get(key), None, self._telemetry, self._name)
        self._telemetry.cache_accessed(self._name, raw is not None)
        if raw is not None:
            return decode(raw)
        value = await load()
        if value is not None:
            stored = self._cache.set(key, encode(value), self._ttl)
            await best_effort(stored, None, self._telemetry, self._name)
        return value

    async def forget(self, key: str) -> None:
        await best_effort(self._cache.delete(key), None, self._telemetry, self._name)
