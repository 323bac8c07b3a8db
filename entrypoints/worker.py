"""The document worker: in the API process by default, or alone (`chatconnect worker`)."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from application.ingestion.processing import ProcessDocument

log = structlog.get_logger()


class Worker:
    """Drains the job queue with a few documents in flight: while one is embedded, the
    next is parsed (in its own process), so the embedder is never left waiting. Each lane
    sleeps when the queue is empty until woken or the poll interval ends."""

    def __init__(
        self, process: ProcessDocument, poll_seconds: float = 1.0, concurrency: int = 2
    ) -> None:
        self._process = process
        self._poll = poll_seconds
        self._concurrency = concurrency
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
