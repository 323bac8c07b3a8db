"""PDF, Word, PowerPoint, Excel, HTML and CSV through `unstructured`, offline, in child
processes that a time limit can kill and a memory cap bounds for their whole life.

The parent checks what is cheap and safe to check (a ZIP's declared sizes); everything
that reads the document's structure runs in a child (see unstructured_worker). The
children start with the first document that needs them and stop when idle.
"""

from __future__ import annotations

import logging
from concurrent.futures.process import BrokenProcessPool

import pebble

from adapters.parsing import content_types as ct
from adapters.parsing.archive_limits import check_archive
from adapters.parsing.failure_reasons import memory_reason
from adapters.parsing.limits import ParseLimits
from adapters.parsing.process_pool import WorkerPool
from adapters.parsing.unstructured_worker import (
    OUT_OF_MEMORY_EXIT,
    SPENT_EXIT,
    DocumentUnreadable,
    ParserNotReady,
    partition,
    start,
)
from domain.errors import DependencyUnavailableError, ParseError
from domain.models import Element

_log = logging.getLogger(__name__)

SUPPORTED = ct.BINARY | frozenset({ct.HTML, ct.CSV})


class UnstructuredParser:
    def __init__(
        self, limits: ParseLimits | None = None, *, _shared: UnstructuredParser | None = None
    ) -> None:
        self._limits = limits or ParseLimits()
        if _shared is not None:
            self._pool, self._max_memory_mb = _shared._pool, _shared._max_memory_mb
            return
        self._max_memory_mb = self._limits.max_memory_mb
        self._pool = WorkerPool(
            workers=self._limits.workers,
            tasks_per_worker=self._limits.documents_per_worker,
            initializer=start,
            initargs=(self._max_memory_mb,),
            idle_seconds=self._limits.idle_seconds,
        )

    def with_limits(self, limits: ParseLimits) -> UnstructuredParser:
        """A parser with other per-document limits (a plan's, a test's) that shares this
        one's child processes; their shape (workers, documents per worker, memory, idle
        time) stays this one's."""
        return UnstructuredParser(limits, _shared=self)

    @property
    def started(self) -> bool:
        """Whether its child processes exist right now."""
        return self._pool.running

    async def parse(self, content: bytes, content_type: str) -> list[Element]:
        content_type = ct.normalize(content_type)
        if content_type not in SUPPORTED:
            raise ParseError(f"documents of type {content_type!r} cannot be parsed")
        if content_type in ct.OFFICE:
            check_archive(
                content,
                max_unzipped_mb=self._limits.max_unzipped_mb,
                max_ratio=self._limits.max_zip_ratio,
            )
        timeout = self._limits.timeout_seconds
        try:
            return await self._run(content, content_type)
        except DocumentUnreadable as error:
            _log.info("document unreadable: %s (%s)", error.reason, error.detail)
            raise ParseError(error.reason) from None
        except TimeoutError:
            raise ParseError(f"parsing took longer than {timeout:g} s, the limit") from None
        except pebble.ProcessExpired as error:
            if error.exitcode == OUT_OF_MEMORY_EXIT:
                raise ParseError(memory_reason(content_type, self._max_memory_mb)) from None
            # Killed by the kernel (out of memory), or a C library crashed (some do when an
            # allocation fails under the cap).
            raise ParseError(self._died(f" (exit code {error.exitcode})")) from None
        except BrokenProcessPool:  # a child died before it took the document
            raise ParseError(self._died("")) from None
        except ParserNotReady as error:
            raise DependencyUnavailableError(f"the document parser cannot start: {error}") from None

    async def _run(self, content: bytes, content_type: str) -> list[Element]:
        args = (partition, content, content_type, self._limits)
        try:
            return await self._pool.run(*args, time_limit=self._limits.timeout_seconds)
        except pebble.ProcessExpired as error:
            if error.exitcode != SPENT_EXIT:
                raise
        # The child was spent before it began: the document goes to its fresh successor.
        return await self._pool.run(*args, time_limit=self._limits.timeout_seconds)

    def _died(self, how: str) -> str:
        limit = f" ({self._max_memory_mb} MB)" if self._max_memory_mb else ""
        return (
            f"the parser's process died on this document{how}; it may need more memory "
            f"than this service allows{limit}"
        )

    async def warm_up(self) -> None:
        """Starts the child processes and waits until one is ready (unstructured imported,
        spaCy loaded, every type parsed once); optional, parse() does the same lazily."""
        await self.parse(b"<p>Ready.</p>", ct.HTML)

    def close(self) -> None:
        self._pool.close()
