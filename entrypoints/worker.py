"""The document worker: in the API process by default, or alone (`chatconnect worker`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

from application.ingestion.processing import ProcessDocument

log = structlog.get_logger()
# A chore run now and then beside the documents; returns how much it did.
Chore = Callable[[], Awaitable[int]]


class Worker:
    """Drains the job queue with a few documents in flight: while one is embedded, the
    next is parsed (in its own process), so the embedder is never left waiting. Each lane
    sleeps when the queue is empty until woken or the poll interval ends."""

    def __init__(
        self,
        process: ProcessDocument,
        poll_seconds: float = 1.0,
        concurrency: int = 2,
        *,
        purge: Chore | None = None,
        purge_seconds: float = 3600.0,
    ) -> None:
        self._process = process
        self._poll = poll_seconds
        self._concurrency = concurrency
        self._purge = purge
        self._purge_seconds = purge_seconds
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        log.info("worker_started", concurrency=self._concurrency)
        self._tasks = [
            asyncio.create_task(self.run(), name=f"document-worker-{lane}")
            for lane in range(self._concurrency)
        ]
        if self._purge is not None:
            self._tasks.append(asyncio.create_task(self.purge(), name="retention-purge"))

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self) -> None:
        while not self._stopping:
            try:
                worked = await self._process.next_job()
            except Exception:
                # A broken queue (e.g. the database restarting) must not kill the worker.
                log.exception("worker_poll_failed")
                worked = False
            if not worked:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll):
                        await self._wake.wait()

    async def purge(self) -> None:
        """Conversations idle past their widget's retention period, at start and then every
        `purge_seconds` (several workers may: each deletes what it finds, once)."""
        assert self._purge is not None
        while not self._stopping:
            try:
                purged = await self._purge()
            except Exception:
                log.exception("conversations_purge_failed")
            else:
                if purged:
                    log.info("conversations_purged", conversations=purged)
            await asyncio.sleep(self._purge_seconds)
