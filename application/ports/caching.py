"""A shared cache: answers, vectors, widgets, history and the counters of rate limits."""

from __future__ import annotations

from typing import Protocol


class Cache(Protocol):
    """Best-effort key/value store with TTLs and atomic counters."""

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def delete_prefix(self, prefix: str) -> int:
        """Deletes every key starting with `prefix`; returns how many. For erasure, not for
        hot paths: it walks the keys."""
        ...

    async def incr(self, key: str, ttl_seconds: float) -> int: ...

    async def ping(self) -> None: ...
