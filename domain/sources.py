"""Choosing an answer's sources from more retrieved chunks than it cites: the page with the
most evidence first, so the first source is the page that answers, not the page with one
lucky chunk."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from domain.models import ScoredChunk


def by_document(hits: Sequence[ScoredChunk], limit: int, best_of: int = 3) -> list[ScoredChunk]:
    """At most `limit` of `hits` (best first): documents ordered by the sum of their best
    `best_of` chunk scores (ties: the order they first appear in), each document's chunks
    together in their own order."""
    chunks: dict[UUID, list[ScoredChunk]] = {}
    for hit in hits:
        chunks.setdefault(hit.chunk.document_id, []).append(hit)
    weight = {
        document: sum(h.score for h in sorted(found, key=lambda h: -h.score)[:best_of])
        for document, found in chunks.items()
    }
    order = sorted(chunks, key=lambda d: -weight[d])  # stable: first seen wins a tie
    return [hit for document in order for hit in chunks[document]][:limit]
