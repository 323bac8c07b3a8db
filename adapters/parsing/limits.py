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
    # What a document's compressed parts may inflate to: an Office file's ZIP members, and
    # a PDF's streams (images aside), each counted before the parser inflates them.
    max_unzipped_mb: int = 200
    # One part's inflation ratio (its declared size over its compressed size).
    max_zip_ratio: int = 100
    # The four below shape the child processes, so with_limits() cannot change them.
    # Memory a child may use above its size once warm (an RLIMIT_DATA set before its first
    # document and kept until it exits; Linux); None leaves it unbounded. Past it a parse
    # gets MemoryError, its document fails and its child is replaced, rather than the
    # machine's OOM killer picking a victim.
    max_memory_mb: int | None = 2048
    # Each child holds unstructured, spaCy and pdfminer (~0.5 GB resident) and keeps one
    # core busy.
    workers: int = 1
    # A child is replaced after this many documents, returning what caches and leaks took.
    documents_per_worker: int = 200
    # Children stop after this long without a document and start again with the next one
    # that needs them; None keeps them until the service stops.
    idle_seconds: float | None = 60.0
