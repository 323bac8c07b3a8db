"""The bounds and pacing of document ingestion."""

from __future__ import annotations

import msgspec


class IngestionPolicy(msgspec.Struct, frozen=True, kw_only=True):
    max_document_bytes: int = 20 * 1024 * 1024
    chunk_tokens: int = 200
    chunk_overlap_tokens: int = 30
    # A section shorter than this opens the next one instead of being a chunk alone.
    chunk_min_section_tokens: int = 50
    embed_batch: int = 32
    # How far a chunk's vector leans towards its page's name line, when the page has one
    # (a manual page's "git-revert - Revert some existing commits"); 0 leaves it alone.
    subject_weight: float = 0.6
    max_attempts: int = 3
    retry_base_seconds: float = 2.0
    # Well inside the queue's lease, so one missed beat does not lose the job.
    heartbeat_seconds: float = 20.0
    # A document embeds whole unless another widget's document waits; then it yields after
    # a slice this long (whole batches), so nobody waits for a whole big document.
    slice_seconds: float = 1.0
    # A due job of another widget left this long was not taken by a free worker: every
    # worker is busy, so a big document's job goes back in line to let it through.
    unclaimed_seconds: float = 2.0
