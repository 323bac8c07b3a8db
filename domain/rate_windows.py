"""Sliding windows for rate limits: at most `limit` hits in any `seconds`, at any moment.

A fixed window (a counter per clock minute) admits twice its limit across a minute's
boundary: the limit at 0:59, the limit again at 1:00. Here each window keeps its hits in
`BUCKETS` buckets per window (1 s each for a minute) and counts the current bucket and the
`BUCKETS` before it: every hit of the last `seconds` is counted, so no stretch of that
length ever holds more than the limit. What it costs is memory bounded per counter (a
number per bucket that has hits: at most `BUCKETS + 1`, and no more than the limit,
where a log of hits would keep one per hit, up to the limit) and a little strictness: a
hit is forgotten between `seconds` and `seconds` plus one bucket after it was made, and
the Retry-After it gives says exactly when.

The in-process cache runs this module; Redis runs the same rule as a Lua script
(adapters/cache/redis.py), and one contract suite holds both to it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import msgspec

BUCKETS = 60


class RateCheck(msgspec.Struct, frozen=True):
    """One counter to count a hit in, and how many hits its window holds."""

    key: str
    limit: int


class RateRefusal(msgspec.Struct, frozen=True):
    """The first counter that was full (its position among the checks), and the seconds
    until its window has room again."""

    index: int
    retry_after: float


class SlidingWindow(msgspec.Struct, frozen=True):
    seconds: float = 60.0
    buckets: int = BUCKETS

    @property
    def bucket_ms(self) -> int:
        return max(1, round(self.seconds * 1000 / self.buckets))

    @property
    def ttl_seconds(self) -> float:
        """How long a counter outlives its last hit: then none of its buckets counts."""
        return (self.buckets + 1) * self.bucket_ms / 1000

    def bucket(self, now: float) -> int:
        return math.floor(now * 1000) // self.bucket_ms

    def live(self, counts: Mapping[int, int], now: float) -> dict[int, int]:
        """The buckets still counted at `now`."""
        oldest = self.bucket(now) - self.buckets
        return {b: n for b, n in counts.items() if b >= oldest}

    def refusal(self, counts: Mapping[int, int], now: float, limit: int) -> float | None:
        """None when one more hit fits; else the seconds until one does, as the oldest
        buckets leave the window."""
        live = self.live(counts, now)
        left = sum(live.values())
        if left < limit:
            return None
        now_ms = math.floor(now * 1000)
        for bucket in sorted(live):
            left -= live[bucket]
            if left < limit:
                return ((bucket + self.buckets + 1) * self.bucket_ms - now_ms) / 1000
        raise AssertionError("unreachable: a limit is at least 1")


def take(
    windows: list[dict[int, int]], limits: list[int], window: SlidingWindow, now: float
) -> RateRefusal | None:
    """Counts a hit in every window (buckets by index, changed in place) if each has room
    for it; otherwise counts nothing and says which was full first."""
    for index, (counts, limit) in enumerate(zip(windows, limits, strict=True)):
        retry_after = window.refusal(counts, now, limit)
        if retry_after is not None:
            return RateRefusal(index, retry_after)
    current = window.bucket(now)
    for counts in windows:
        for stale in set(counts) - set(window.live(counts, now)):
            del counts[stale]
        counts[current] = counts.get(current, 0) + 1
    return None
