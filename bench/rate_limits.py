"""What a chat's rate-limit check costs: the sliding windows (visitor, address and widget in
one Redis script call) against the fixed windows they replaced (a MULTI/EXEC counter per
visitor and per widget), on Redis and in process, one check at a time.

    .venv/bin/python bench/rate_limits.py --redis redis://127.0.0.1:6379/15
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from chat_latency import write_doc

from adapters.cache.memory import MemoryCache
from adapters.cache.redis import RedisCache
from application.ports.caching import Cache
from domain.rate_windows import RateCheck, SlidingWindow

CHECKS, WARM = 5000, 500
WINDOW = SlidingWindow(seconds=60)
COMMAND = ".venv/bin/python bench/rate_limits.py --redis redis://127.0.0.1:6379/15"


def fixed(cache: Cache) -> Callable[[int], Awaitable[object]]:
    """The fixed windows the sliding ones replaced, counted as the service's `Cache.incr`
    (since removed) counted them: on Redis one MULTI/EXEC (INCR, PEXPIRE NX) per counter;
    in process a dict of counters (the removed method also kept the cache's expiry
    bookkeeping, so this row is a little cheaper than the code it stands for)."""
    if isinstance(cache, RedisCache):
        client, prefix = cache._client, cache._prefix

        async def incr(key: str) -> int:
            async with client.pipeline(transaction=True) as pipe:
                pipe.incr(prefix + key)
                pipe.pexpire(prefix + key, 60_000, nx=True)
                count, _ = await pipe.execute()
            return int(count)
    else:
        counts: dict[str, int] = {}

        async def incr(key: str) -> int:
            counts[key] = counts.get(key, 0) + 1
            return counts[key]

    async def check(n: int) -> object:
        minute = int(time.time()) // 60
        await incr(f"rl:v:w:visitor{n % 100}:{minute}")
        return await incr(f"rl:w:w:{minute}")

    return check


def sliding(cache: Cache) -> Callable[[int], Awaitable[object]]:
    async def check(n: int) -> object:
        checks = [
            RateCheck(f"rl:{{w}}:v:visitor{n % 100}", 10**9),
            RateCheck(f"rl:{{w}}:a:address{n % 20}", 10**9),
            RateCheck("rl:{w}:w", 10**9),
        ]
        return await cache.take(checks, WINDOW, time.time())

    return check


async def timed(check: Callable[[int], Awaitable[object]]) -> list[float]:
    for n in range(WARM):
        await check(n)
    spent = []
    for n in range(CHECKS):
        started = time.perf_counter()
        await check(n)
        spent.append((time.perf_counter() - started) * 1e6)
    return spent


def row(name: str, spent: list[float]) -> str:
    cuts = statistics.quantiles(spent, n=100)
    return f"| {name} | {CHECKS} | {statistics.median(spent):.0f} | {cuts[98]:.0f} |"


async def measure(redis_url: str) -> str:
    rows, medians = [], {}
    for label, make in (("in process", lambda: MemoryCache()), ("Redis", None)):
        for kind, strategy in (("fixed windows (before)", fixed), ("sliding windows", sliding)):
            if make is None:
                cache = RedisCache.from_url(redis_url, timeout_seconds=1.0)
                cache._prefix = f"bench:{uuid.uuid4().hex}:"
            else:
                cache = make()
            try:
                spent = await timed(strategy(cache))
                rows.append(row(f"{label}, {kind}", spent))
                medians[label, strategy] = statistics.median(spent)
            finally:
                if isinstance(cache, RedisCache):
                    await cache.close()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "\n".join(
        [
            "## Rate limits: the check on the chat path",
            "",
            f"Measured {when} on 2 cores shared with other work (noisy: compare within one "
            f"run). Python {platform.python_version()}, a local Redis over TCP. One check at "
            "a time, as one chat makes it: before, a MULTI/EXEC counter for the visitor and "
            "one for the widget (two round trips); now the visitor's, the address's and the "
            "widget's sliding windows in one script call (one round trip).",
            "",
            "```",
            COMMAND,
            "```",
            "",
            "| limits | checks | p50 µs | p99 µs |",
            "|---|---:|---:|---:|",
            *rows,
            "",
            "Sliding against fixed, p50: "
            f"{medians['Redis', sliding] / medians['Redis', fixed]:.2f}x on Redis, "
            f"{medians['in process', sliding] / medians['in process', fixed]:.1f}x in process "
            "(microseconds either way, against milliseconds for a chat).",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis", required=True, help="a Redis to measure on (keys prefixed)")
    parser.add_argument("--quick", action="store_true", help="print only; leave the doc alone")
    args = parser.parse_args()
    section = asyncio.run(measure(args.redis))
    print(section)
    if not args.quick:
        write_doc(section, "rate_limits")


if __name__ == "__main__":
    main()
