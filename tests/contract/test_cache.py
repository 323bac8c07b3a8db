"""The Cache contract; the Redis adapter joins this suite when it lands."""

from __future__ import annotations

import asyncio

import pytest

from adapters.cache.memory import MemoryCache
from application.ports import Cache


@pytest.fixture(params=["memory"])
def cache(request: pytest.FixtureRequest) -> Cache:
    return MemoryCache()


async def test_set_get_delete(cache: Cache) -> None:
    assert await cache.get("k") is None
    await cache.set("k", b"v", ttl_seconds=10)
    assert await cache.get("k") == b"v"
    await cache.delete("k")
    assert await cache.get("k") is None


async def test_values_expire(cache: Cache) -> None:
    await cache.set("k", b"v", ttl_seconds=0.05)
    await asyncio.sleep(0.1)
    assert await cache.get("k") is None


async def test_counters_are_atomic_under_concurrency(cache: Cache) -> None:
    counts = await asyncio.gather(*(cache.incr("hits", ttl_seconds=10) for _ in range(200)))
    assert sorted(counts) == list(range(1, 201))


async def test_a_counter_window_expires(cache: Cache) -> None:
    await cache.incr("window", ttl_seconds=0.05)
    assert await cache.incr("window", ttl_seconds=0.05) == 2
    await asyncio.sleep(0.1)
    assert await cache.incr("window", ttl_seconds=0.05) == 1


def test_memory_cache_stays_bounded() -> None:
    cache = MemoryCache(max_entries=3)

    async def fill() -> None:
        for n in range(10):
            await cache.set(f"k{n}", b"v", ttl_seconds=10)
        assert await cache.get("k0") is None and await cache.get("k9") == b"v"

    asyncio.run(fill())
