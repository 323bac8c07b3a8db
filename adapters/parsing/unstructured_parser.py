"""PDF, Word, PowerPoint, Excel, HTML, Markdown, CSV and text through `unstructured`,
offline, in child processes that a time limit can kill.

The parent checks what is cheap and safe to check (the type, a ZIP's declared sizes);
everything that reads the document's structure runs in a child (see unstructured_worker).
"""

from __future__ import annotations

import logging

import pebble

from adapters.parsing import content_types as ct
from adapters.parsing import sniffing
from adapters.parsing.archive_limits import check_archive
from adapters.parsing.limits import ParseLimits
from adapters.parsing.process_pool import WorkerPool
from adapters.parsing.unstructured_worker import (
    DocumentUnreadable,
    ParserNotReady,
    partition,
    start,
)
from domain.errors import DependencyUnavailableError, ParseError
from domain.models import Element

_log = logging.getLogger(__name__)

SUPPORTED = ct.BINARY | ct.TEXT


class UnstructuredParser:
    def __init__(
        self, limits: ParseLimits | None = None, *, _pool: WorkerPool | None = None
    ) -> None:
        self._limits = limits or ParseLimits()
        self._pool = _pool or WorkerPool(
            workers=self._limits.workers,
            tasks_per_worker=self._limits.documents_per_worker,
            initializer=start,
        )

    def with_limits(self, limits: ParseLimits) -> UnstructuredParser:
        """A parser with other per-document limits (a plan's, a test's) that shares this
        one's child processes; the pool's shape (workers, documents_per_worker) stays."""
        return UnstructuredParser(limits, _pool=self._pool)

    def supports(self, content_type: str) -> bool:
        return ct.normalize(content_type) in SUPPORTED

    def identify(self, content: bytes, declared: str) -> str:
        return sniffing.identify(content, declared)

    async def parse(self, content: bytes, content_type: str) -> list[Element]:
        content_type = ct.normalize(content_type)
        if content_type not in SUPPORTED:
            raise ParseError(f"documents of type {content_type!r} cannot be parsed")
        if content_type in ct.TEXT and not sniffing.is_text(content[:8192]):
            raise ParseError("the file looks binary, not text")
        if content_type in ct.OFFICE:
            check_archive(
                content,
                max_unzipped_mb=self._limits.max_unzipped_mb,
                max_ratio=self._limits.max_zip_ratio,
            )
        timeout = self._limits.timeout_seconds
        try:
            return await self._pool.run(
                partition, content, content_type, self._limits, time_limit=timeout
            )
        except DocumentUnreadable as error:
            _log.info("document unreadable: %s (%s)", error.reason, error.detail)
            raise ParseError(error.reason) from None
        except TimeoutError:
            raise ParseError(f"parsing took longer than {timeout:g} s, the limit") from None
        except pebble.ProcessExpired as error:
            # Killed by the kernel (out of memory) or crashed inside a C library.
            raise ParseError(
                f"the parser's process died on this document (exit code {error.exitcode}); "
                "it may need more memory than this service allows"
            ) from None
        except ParserNotReady as error:
            raise DependencyUnavailableError(f"the document parser cannot start: {error}") from None

    async def warm_up(self) -> None:
        """Starts the child processes and waits until one is ready (unstructured imported,
        spaCy loaded, every type parsed once); optional, parse() does the same lazily."""
        await self.parse(b"Ready.", ct.PLAIN)

    def close(self) -> None:
        self._pool.close()
