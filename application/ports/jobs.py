"""The durable hand-off of documents to the workers that process them."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

import msgspec

from domain.models import Job


class QueueStats(msgspec.Struct, frozen=True, kw_only=True):
    jobs_by_state: dict[str, int]
    oldest_queued_seconds: float


class JobQueue(Protocol):
    """Durable hand-off of documents to process; claimed jobs carry a lease."""

    async def stats(self) -> QueueStats: ...

    async def enqueue(self, document_id: UUID) -> None: ...

    async def claim(self) -> Job | None:
        """The next due job, leased to the caller: of the tenant served least recently, then
        of its widget served least recently, then the longest in line; so no document waits
        for another tenant's whole document, as long as documents yield (`pause`)."""
        ...

    async def heartbeat(self, job: Job) -> bool:
        """Extends the lease; False when it was lost (expired and claimed again, or ended)."""
        ...

    async def pause(self, job: Job) -> None:
        """Puts a job that made progress back in line after a slice of its document: due at
        once, keeping its place among its widget's jobs, its attempts counted afresh (a
        slice that ended is a verdict, not a killed worker)."""
        ...

    async def waiting_elsewhere(self, widget_id: UUID, for_seconds: float = 0.0) -> bool:
        """Whether a job of another widget has been due (queued, or its worker's lease ran
        out) for at least `for_seconds`."""
        ...

    async def complete(self, job: Job) -> None: ...

    async def retry(self, job: Job, error: str, delay_seconds: float) -> None: ...

    async def fail(self, job: Job, error: str) -> None: ...
