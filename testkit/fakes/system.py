"""A clock that moves only when asked, and ids that count up: runs repeat exactly."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta


class FakeClock:
    def __init__(self) -> None:
        self.current = datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        self.current += timedelta(milliseconds=1)
        return self.current

    def monotonic(self) -> float:
        return (self.now() - datetime(2026, 1, 1, tzinfo=UTC)).total_seconds()


class SequentialIds:
    def __init__(self) -> None:
        self._n = itertools.count(1)

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=next(self._n))

    def new_key(self) -> str:
        return f"wk_test_{next(self._n)}"
