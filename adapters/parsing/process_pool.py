"""Warm child processes that run one blocking task each, and die for it when it hangs.

A thread cannot be stopped, so a document that makes a parser loop or balloon would hold
the service's process hostage; in a child process it costs only that child, which is
killed at the time limit and replaced. Children are started with `spawn`: forking the
service's process, with its event loop and threads, can deadlock the copy.

The children exist only while there is work: the first task starts them, and after
`idle_seconds` without a task they are stopped, so a service that parses nothing (or only
what it parses in-process) holds no child's memory.
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


def _stop(pool: pebble.ProcessPool) -> None:
    pool.stop()  # running tasks are abandoned: their children are killed
    with contextlib.suppress(TimeoutError):  # a child past SIGKILL is the OS's now
        pool.join(timeout=10)


class WorkerPool:
    """Created on first use, so importing or constructing it starts nothing."""

    def __init__(
        self,
        *,
        workers: int,
        tasks_per_worker: int,
        initializer: Callable[..., None] | None = None,
        initargs: tuple[Any, ...] = (),
        idle_seconds: float | None = None,
    ) -> None:
        self._workers = workers
        self._tasks_per_worker = tasks_per_worker
        self._initializer = initializer
        self._initargs = initargs
        self._idle_seconds = idle_seconds
        self._pool: pebble.ProcessPool | None = None
        self._in_flight = 0
        self._idle_timer: threading.Timer | None = None
        # Tasks finish on pebble's threads, the idle timer fires on its own, and close()
        # may come from yet another thread than run().
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        """Whether child processes exist (or are starting) right now."""
        with self._lock:
            return self._pool is not None and self._pool.active

    def _acquire(self) -> pebble.ProcessPool:
        broken = None
        with self._lock:
            self._cancel_idle_timer()
            if self._pool is None or not self._pool.active:
                # A pool whose children all died at start is broken for good: replace it.
                broken, self._pool = (
                    self._pool,
                    pebble.ProcessPool(
                        max_workers=self._workers,
                        max_tasks=self._tasks_per_worker,
                        initializer=self._initializer,
                        initargs=self._initargs,
                        context=multiprocessing.get_context("spawn"),
                    ),
                )
            self._in_flight += 1
            pool = self._pool
        if broken is not None:  # joined off the caller's thread: it may be an event loop
            threading.Thread(target=_stop, args=(broken,), daemon=True).start()
        return pool

    def _release(self) -> None:
        with self._lock:
            self._in_flight -= 1
            if self._in_flight or self._idle_seconds is None or self._pool is None:
                return
            self._cancel_idle_timer()
            self._idle_timer = threading.Timer(self._idle_seconds, self._stop_if_idle)
            self._idle_timer.daemon = True
            self._idle_timer.start()

    def _cancel_idle_timer(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    def _stop_if_idle(self) -> None:
        with self._lock:
            # A task that came meanwhile cancelled this timer (perhaps too late to stop
            # its thread) or started another; only the current one may stop the pool.
            if self._in_flight or self._idle_timer is not threading.current_thread():
                return
            self._idle_timer = None
            idle, self._pool = self._pool, None
        if idle is not None:
            _stop(idle)

    async def run(self, function: Callable[..., _T], *args: Any, time_limit: float) -> _T:
        """The task's result or exception. Past `time_limit` seconds of running (waiting for
        a free child is not counted) its child is killed and TimeoutError is raised;
        pebble.ProcessExpired when the child died on its own (or ended itself: its exit
        code says why). Cancelling the caller kills the child too, so an abandoned task
        does not keep a core busy."""
        pool = self._acquire()
        try:
            future = pool.schedule(function, args=args, timeout=time_limit)
        except BaseException:
            self._release()
            raise
        future.add_done_callback(lambda _: self._release())
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        with self._lock:
            self._cancel_idle_timer()
            pool, self._pool = self._pool, None
        if pool is not None:
            _stop(pool)
