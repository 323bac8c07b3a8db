"""Warm child processes that run one blocking task each, and die for it when it hangs.

A thread cannot be stopped, so a document that makes a parser loop or balloon would hold
the service's process hostage; in a child process it costs only that child, which is
killed at the time limit and replaced. Children are started with `spawn`: forking the
service's process, with its event loop and threads, can deadlock the copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import pebble

_T = TypeVar("_T")


class WorkerPool:
    """Created on first use, so importing or constructing it starts nothing."""

    def __init__(
        self,
        *,
        workers: int,
        tasks_per_worker: int,
        initializer: Callable[..., None] | None = None,
        initargs: tuple[Any, ...] = (),
    ) -> None:
        self._workers = workers
        self._tasks_per_worker = tasks_per_worker
        self._initializer = initializer
        self._initargs = initargs
        self._pool: pebble.ProcessPool | None = None
        self._lock = threading.Lock()  # close() may come from another thread than run()

    def _running(self) -> pebble.ProcessPool:
        with self._lock:
            if self._pool is None or not self._pool.active:
                # A pool whose children all died at start is broken for good: replace it.
                self._discard()
                self._pool = pebble.ProcessPool(
                    max_workers=self._workers,
                    max_tasks=self._tasks_per_worker,
                    initializer=self._initializer,
                    initargs=self._initargs,
                    context=multiprocessing.get_context("spawn"),
                )
            return self._pool

    async def run(self, function: Callable[..., _T], *args: Any, time_limit: float) -> _T:
        """The task's result or exception. Past `time_limit` seconds of running (waiting for
        a free child is not counted) its child is killed and TimeoutError is raised;
        pebble.ProcessExpired when the child died on its own. Cancelling the caller kills
        the child too, so an abandoned task does not keep a core busy."""
        future = self._running().schedule(function, args=args, timeout=time_limit)
        return await asyncio.wrap_future(future)

    def _discard(self) -> None:
        if self._pool is not None:
            self._pool.stop()  # running tasks are abandoned: their children are killed
            with contextlib.suppress(TimeoutError):  # a child past SIGKILL is the OS's now
                self._pool.join(timeout=10)
            self._pool = None

    def close(self) -> None:
        with self._lock:
            self._discard()
