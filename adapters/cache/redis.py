"""The Cache port on Redis: pooled, with millisecond timeouts and a short back-off, so a
dead or slow Redis costs a chat a few milliseconds once, then nothing until it returns.

A burst of calls beyond the pool queues here, outside the timeout: waiting for a free
connection is our own congestion, not an outage, and must not switch limits and caching
off. A dead Redis still fails the queue fast: the calls in flight time out, the back-off
starts, and every queued call sees it as its turn comes."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import TypeVar

import redis.asyncio as redis
import structlog
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from domain.errors import CacheUnavailableError
from domain.rate_windows import RateCheck, RateRefusal, SlidingWindow

log = structlog.get_logger()
T = TypeVar("T")
# One event loop, not Redis, bounds the throughput: more connections than this only keep
# each call longer in the loop's queue, where its timeout would measure us, not Redis
# (a burst of 1,000 calls here: the slowest took 15 ms with 8, 33 ms with 16, 70 ms with 64).
POOL_SIZE = 16
SCAN_BATCH = 500
# After a failed call, how long the cache is skipped (limits and caching off) before the
# next call tries Redis again.
BACKOFF_SECONDS = 2.0
# domain/rate_windows.py, in Redis: a hash of bucket -> hits per counter. Every counter is
# checked, stale buckets dropped, and only when all have room is the hit counted in each.
# KEYS: the counters; ARGV: now (ms), bucket (ms), buckets per window, then each limit.
# Returns {0, 0} when counted, else {position of the first full counter (from 1), the
# milliseconds until it has room}.
SLIDING_WINDOWS = """
local now = tonumber(ARGV[1])
local size = tonumber(ARGV[2])
local buckets = tonumber(ARGV[3])
local current = math.floor(now / size)
local oldest = current - buckets
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[3 + i])
  local fields = redis.call('HGETALL', key)
  local live = {}
  local total = 0
  for j = 1, #fields, 2 do
    local bucket = tonumber(fields[j])
    if bucket < oldest then
      redis.call('HDEL', key, fields[j])
    else
      local hits = tonumber(fields[j + 1])
      total = total + hits
      live[#live + 1] = {bucket, hits}
    end
  end
  if total >= limit then
    table.sort(live, function(a, b) return a[1] < b[1] end)
    for _, entry in ipairs(live) do
      total = total - entry[2]
      if total < limit then
        return {i, (entry[1] + buckets + 1) * size - now}
      end
    end
  end
end
local field = string.format('%d', current)
for _, key in ipairs(KEYS) do
  redis.call('HINCRBY', key, field, 1)
  redis.call('PEXPIRE', key, (buckets + 1) * size)
end
return {0, 0}
"""
_GLOB_SPECIAL = str.maketrans({c: "\\" + c for c in "*?[]\\"})


def _glob_escaped(text: str) -> str:
    return text.translate(_GLOB_SPECIAL)


class RedisCache:
    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "chatconnect:",
        timeout_seconds: float = 0.05,
        backoff_seconds: float = BACKOFF_SECONDS,
        connections: int = POOL_SIZE,
    ) -> None:
        self._client = client
        self._turns = asyncio.Semaphore(connections)
        self._prefix = prefix
        self._timeout = timeout_seconds
        self._backoff = backoff_seconds
        self._down_until = 0.0
        self._windows = client.register_script(SLIDING_WINDOWS)

    @classmethod
    def from_url(cls, url: str, *, timeout_seconds: float = 0.05) -> RedisCache:
        # Calls take turns (`_turns`) for the pool's connections, so its own wait for one
        # never runs out; should it, it is an error like any other.
        pool = redis.BlockingConnectionPool.from_url(
            url,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
            max_connections=POOL_SIZE,
            timeout=timeout_seconds,
            # A pooled connection that died while Redis was away fails its first command
            # once Redis is back: one retry on a new connection keeps that from passing for
            # an outage (and a back-off during which limits and caching are off).
            retry=Retry(NoBackoff(), 1),
            retry_on_error=[RedisConnectionError],
        )
        return cls(redis.Redis(connection_pool=pool), timeout_seconds=timeout_seconds)

    async def _call(self, operation: Callable[[], Awaitable[T]]) -> T:
        self._check_not_backing_off()
        async with self._turns:
            self._check_not_backing_off()  # it may have started while this call queued
            try:
                async with asyncio.timeout(self._timeout * 2):
                    return await operation()
            except (RedisError, OSError, TimeoutError) as error:
                self._down_until = time.monotonic() + self._backoff
                log.warning("cache_unavailable", error=repr(error), backoff_s=self._backoff)
                raise CacheUnavailableError("the cache is unavailable") from error

    def _check_not_backing_off(self) -> None:
        if time.monotonic() < self._down_until:
            raise CacheUnavailableError("the cache is unavailable (backing off)")

    async def get(self, key: str) -> bytes | None:
        value = await self._call(lambda: self._client.get(self._prefix + key))
        return bytes(value) if value is not None else None

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        milliseconds = max(1, int(ttl_seconds * 1000))
        await self._call(lambda: self._client.set(self._prefix + key, value, px=milliseconds))

    async def delete(self, key: str) -> None:
        await self._call(lambda: self._client.delete(self._prefix + key))

    async def delete_prefix(self, prefix: str) -> int:
        """SCAN and UNLINK a batch per call, so that no single call outlasts the timeout."""
        pattern = _glob_escaped(self._prefix + prefix) + "*"
        cursor, deleted = 0, 0
        while True:
            cursor, keys = await self._call(partial(self._client.scan, cursor, pattern, SCAN_BATCH))
            if keys:
                deleted += int(await self._call(partial(self._client.unlink, *keys)))
            if cursor == 0:
                return deleted

    async def take(
        self, checks: Sequence[RateCheck], window: SlidingWindow, now: float
    ) -> RateRefusal | None:
        keys = [self._prefix + check.key for check in checks]
        args = [math.floor(now * 1000), window.bucket_ms, window.buckets]
        args += [check.limit for check in checks]
        # One EVALSHA (EVAL once per connection's server, after a restart): one round trip.
        position, retry_ms = await self._call(lambda: self._windows(keys=keys, args=args))
        if int(position) == 0:
            return None
        return RateRefusal(int(position) - 1, int(retry_ms) / 1000)

    async def ping(self) -> None:
        # Readiness asks even while backing off: it must see the cache come back.
        self._down_until = 0.0
        await self._call(self._client.ping)

    async def close(self) -> None:
        await self._client.aclose(close_connection_pool=True)
