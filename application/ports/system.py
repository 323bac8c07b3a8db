"""Time and identity, so the core is deterministic under test."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID


class Clock(Protocol):
    def now(self) -> datetime:
        """Wall-clock time, timezone-aware, for what is stored."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back, for measuring durations."""
        ...


class IdGenerator(Protocol):
    def new_id(self) -> UUID: ...

    def new_key(self) -> str: ...
