"""How much work one document may cost the parser before it is refused."""

from __future__ import annotations

import msgspec


class ParseLimits(msgspec.Struct, frozen=True, kw_only=True):
    # Wall time of one partitioning in its child process; past it the child is killed.
    timeout_seconds: float = 120.0
    # Counted before partitioning, so an oversized PDF costs a page count, not a parse.
    max_pages: int = 500
    # Elements (paragraphs, titles, list items, tables) of one document.
    max_elements: int = 50_000
    # Office files (ZIP archives): all parts inflated, and one part's inflation ratio.
    max_unzipped_mb: int = 200
    max_zip_ratio: int = 100
    # Memory one parse may add to its child (an RLIMIT_AS above the child's size when the
    # parse starts; Linux); None leaves it unbounded. Past it the parse gets MemoryError,
    # rather than the machine's OOM killer picking a victim.
    max_memory_mb: int | None = 2048
    # The two below shape the pool of child processes, so with_limits() cannot change them.
    # Each child holds unstructured, spaCy and pdfminer (~0.6 GB resident) and keeps one
    # core busy.
    workers: int = 1
    # A child is replaced after this many documents, returning what caches and leaks took.
    documents_per_worker: int = 200
