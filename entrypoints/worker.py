"""The document worker: in the API process by default, or alone (`chatconnect worker`)."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from application.ingestion import ProcessDocument

log = structlog.get_logger()


class Worker:
    """Drains the job queue; sleeps when it is empty until woken or the poll interval ends."""

    def __init__(self, process: ProcessDocument, poll_seconds: float = 1.0) -> None:
        self._process = process
        self._poll = poll_seconds
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="document-worker")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def run(self) -> None:
        log.info("worker_started")
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
