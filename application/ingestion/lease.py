"""Holding a job's lease while its work runs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any, TypeVar

from application.ports.jobs import JobQueue
from domain.models import Job

_T = TypeVar("_T")


class LeaseLostError(Exception):
    """This worker's claim on a job expired and another worker took it."""


async def holding_lease(
    jobs: JobQueue, job: Job, work: Coroutine[Any, Any, _T], heartbeat_seconds: float
) -> _T:
    """Runs the work while renewing the job's lease; a lost lease stops it, since the job
    now belongs to another worker."""
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=heartbeat_seconds)
            if done:
                return task.result()
            try:
                kept = await jobs.heartbeat(job)
            except Exception:
                kept = True  # a database blip: the lease may well hold; beat again later
            if not kept:
                raise LeaseLostError(f"the lease on job {job.id} was lost")
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
