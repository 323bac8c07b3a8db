"""The Cache contract, for the in-process cache and Redis alike."""

from __future__ import annotations

import asyncio
import gc
import random
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from adapters.cache.memory import MemoryCache
from adapters.cache.redis import RedisCache
from application.ports.caching import Cache
from domain.errors import CacheUnavailableError
from domain.rate_windows import RateCheck, SlidingWindow
from entrypoints.heap import freeze_startup_heap


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.integration)])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    if request.param == "memory":
        yield MemoryCache()
        return
    url = request.getfixturevalue("redis_url")
    redis = RedisCache.from_url(url, timeout_seconds=0.5)
    redis._prefix = f"test:{uuid.uuid4().hex}:"  # each test its own keys on a shared server
    yield redis
    await redis.close()


async def test_set_get_delete(cache: Cache) -> None:
    assert await cache.get("k") is None
    await cache.set("k", b"v", ttl_seconds=10)
    assert await cache.get("k") == b"v"
    await cache.delete("k")
    assert await cache.get("k") is None


async def test_deleting_a_prefix_deletes_its_keys_only(cache: Cache) -> None:
    # More keys than one SCAN batch, values and rate windows alike.
    for n in range(1200):
        await cache.set(f"answer:w1:{n}", b"v", ttl_seconds=10)
    window = SlidingWindow(seconds=60)
    await cache.take([RateCheck("answer:w1:count", 1)], window, time.time())
    for kept in ("answer:w2:1", "answer:w1", "history:answer:w1:1"):
        await cache.set(kept, b"kept", ttl_seconds=10)

    assert await cache.delete_prefix("answer:w1:") == 1201

    assert await cache.get("answer:w1:7") is None
    # A fresh window: the one hit it allows is free again.
    assert await cache.take([RateCheck("answer:w1:count", 1)], window, time.time()) is None
    for kept in ("answer:w2:1", "answer:w1", "history:answer:w1:1"):
        assert await cache.get(kept) == b"kept"
    assert await cache.delete_prefix("nothing:") == 0


async def test_a_prefix_is_literal_not_a_pattern(cache: Cache) -> None:
    await cache.set("a*b:1", b"v", ttl_seconds=10)
    await cache.set("axb:1", b"v", ttl_seconds=10)
    await cache.set("a?[b]:1", b"v", ttl_seconds=10)

    assert await cache.delete_prefix("a*b:") == 1
    assert await cache.delete_prefix("a?[b]") == 1

    assert await cache.get("axb:1") == b"v"


async def test_values_expire(cache: Cache) -> None:
    await cache.set("k", b"v", ttl_seconds=0.05)
    await asyncio.sleep(0.1)
    assert await cache.get("k") is None


def test_memory_cache_stays_bounded() -> None:
    cache = MemoryCache(max_entries=3)

    async def fill() -> None:
        for n in range(10):
            await cache.set(f"k{n}", b"v", ttl_seconds=10)
        assert await cache.get("k0") is None and await cache.get("k9") == b"v"

    asyncio.run(fill())


async def test_a_dead_redis_fails_fast_then_backs_off() -> None:
    dead = RedisCache.from_url("redis://127.0.0.1:1/0", timeout_seconds=0.05)
    try:
        started = time.monotonic()
        with pytest.raises(CacheUnavailableError):
            await dead.get("k")
        first = time.monotonic() - started
        started = time.monotonic()
        with pytest.raises(CacheUnavailableError):
            await dead.take([RateCheck("k", 1)], SlidingWindow(seconds=60), time.time())
        again = time.monotonic() - started
    finally:
        await dead.close()
    assert first < 0.5
    assert again < 0.005  # backing off: no connection attempt at all


@pytest.fixture
def heap_frozen() -> Iterator[None]:
    """The heap as the served app has it (entrypoints/heap.py). Unfrozen, a full collection
    of this test process's heap stalls the loop for ~0.1 s once many test modules are
    loaded: longer than the timeout, and the stall that freezing removes, not a queue."""
    freeze_startup_heap()
    yield
    gc.unfreeze()


@pytest.mark.integration
@pytest.mark.usefixtures("heap_frozen")
async def test_a_burst_far_beyond_the_pool_waits_its_turn_instead_of_failing(
    redis_url: str,
) -> None:
    # The production timeout: a queue for connections longer than it is no outage.
    redis = RedisCache.from_url(redis_url, timeout_seconds=0.05)
    redis._prefix = f"test:{uuid.uuid4().hex}:"
    try:
        window, now = SlidingWindow(seconds=60), time.time()
        refusals = await asyncio.gather(
            *(redis.take([RateCheck("burst", 1000)], window, now) for _ in range(1000))
        )
        over = await redis.take([RateCheck("burst", 1000)], window, now)
    finally:
        await redis.close()
    assert refusals == [None] * 1000  # every one counted, none failed for want of a connection
    assert over is not None


async def test_a_hung_redis_fails_a_queued_burst_fast() -> None:
    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # holds the connection open, answers nothing

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    hung = RedisCache.from_url(f"redis://127.0.0.1:{port}/0", timeout_seconds=0.05)
    try:
        started = time.monotonic()
        outcomes = await asyncio.gather(
            *(hung.get("k") for _ in range(500)), return_exceptions=True
        )
        took = time.monotonic() - started
    finally:
        await hung.close()
        server.close()
    assert all(isinstance(outcome, CacheUnavailableError) for outcome in outcomes)
    # The calls in flight time out once (twice 0.05 s); the queue behind them fails at once.
    assert took < 0.5


# --- sliding windows (domain/rate_windows.py) ----------------------------------------------
MINUTE = SlidingWindow(seconds=60)
# A clock the test sets: the windows are the caller's time, not the cache's.
EDGE = 1_800_000_000.0 - 1_800_000_000 % 60 + 60  # a minute's boundary


async def hits(cache: Cache, times: list[float], limit: int, key: str = "rl:v") -> list[bool]:
    return [await cache.take([RateCheck(key, limit)], MINUTE, t) is None for t in times]


async def test_a_window_holds_its_limit_across_a_minutes_boundary(cache: Cache) -> None:
    # 10 in 2.5 s at 5 a minute: a fixed window let all 10 through, 5 each side of 1:00.
    times = [EDGE - 1.25 + n * 0.25 for n in range(10)]

    admitted = await hits(cache, times, limit=5)

    assert admitted == [True] * 5 + [False] * 5


async def test_a_full_window_says_exactly_when_it_has_room_again(cache: Cache) -> None:
    first = EDGE + 10.4
    assert await hits(cache, [first, first + 20, first + 40], limit=3) == [True] * 3

    refused = await cache.take([RateCheck("rl:v", 3)], MINUTE, first + 45)

    assert refused is not None and refused.index == 0
    # The first hit leaves within a bucket (1 s) after its minute: no earlier, no later.
    room = first + 45 + refused.retry_after
    assert first + 60 <= room <= first + 61
    assert await hits(cache, [room - 0.01, room], limit=3) == [False, True]
    # Its two others are still counted: the window is full again.
    assert await hits(cache, [room + 0.01], limit=3) == [False]


async def test_no_minute_ever_holds_more_than_the_limit(cache: Cache) -> None:
    rng = random.Random(7)
    times = sorted(EDGE + rng.uniform(0, 300) for _ in range(400))

    outcomes = await hits(cache, times, limit=20)
    admitted = [t for t, ok in zip(times, outcomes, strict=True) if ok]

    busiest = max(sum(1 for u in admitted if t <= u < t + 60) for t in admitted)
    assert busiest == 20
    assert len(admitted) >= 20 * 300 / 61  # and not much stricter than the limit


async def test_a_hit_counts_in_every_window_or_in_none(cache: Cache) -> None:
    visitor, address, widget = RateCheck("v", 5), RateCheck("a", 2), RateCheck("w", 100)
    for n in range(2):
        assert await cache.take([visitor, address, widget], MINUTE, EDGE + n) is None

    refused = await cache.take([visitor, address, widget], MINUTE, EDGE + 2)

    assert refused is not None and refused.index == 1  # the address's window was full
    # Nothing was counted for the refused hit: the visitor has 3 left, the widget 98.
    assert await hits(cache, [EDGE + 3] * 4, limit=5, key="v") == [True] * 3 + [False]
    assert await hits(cache, [EDGE + 3] * 99, limit=100, key="w") == [True] * 98 + [False]


async def test_windows_are_atomic_under_concurrency(cache: Cache) -> None:
    check = [RateCheck("rl:burst", 50)]
    results = await asyncio.gather(*(cache.take(check, MINUTE, EDGE) for _ in range(200)))
    assert sum(result is None for result in results) == 50
