"""Calendar months in UTC: every monthly allowance and ceiling counts from the first of the
month and renews on the first of the next."""

from __future__ import annotations

from datetime import UTC, datetime


def month_start(now: datetime) -> datetime:
    return datetime(now.year, now.month, 1, tzinfo=UTC)


def next_month(now: datetime) -> datetime:
    return datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=UTC)
