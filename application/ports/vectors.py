"""Where chunks and their vectors are kept and searched."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

import msgspec

from domain.models import Chunk, ScoredChunk

Vector = Sequence[float]


class RetrievalMode(enum.StrEnum):
    """Hybrid is what the service uses; the single-signal modes exist to measure it."""

    DENSE = "dense"
    SPARSE = "sparse"
    HYBRID = "hybrid"


class SearchQuery(msgspec.Struct, frozen=True):
    """A question as text (for BM25) and as the embedder's vector of that text.

    A follow-up carries the conversation's earlier question as `context`, whose words BM25
    counts at `context_weight` against 1 for the question's own, and together at most at
    `context_weight` times the question's own words (its vector is already folded into
    `vector` by the caller, at the same weight).
    """

    text: str
    vector: Vector
    mode: RetrievalMode = RetrievalMode.HYBRID
    context: str = ""
    context_weight: float = 0.0


class VectorStore(Protocol):
    """Chunks and their vectors, always read and written within one widget.

    `search` returns at most `limit` chunks of that widget, best first, ties in chunk id
    order, each with the question's dense cosine as `similarity`.
    """

    async def stage(self, chunks: Sequence[Chunk], vectors: Sequence[Vector]) -> None:
        """Writes chunks that search does not see until `publish`."""
        ...

    async def publish(self, widget_id: UUID, document_id: UUID, chunk_count: int) -> None:
        """In one step, the document's staged chunks below `chunk_count` replace its live
        ones, so no answer ever mixes two versions of a document; staged leftovers at or
        past `chunk_count` are dropped."""
        ...

    async def discard_staged(self, widget_id: UUID, document_id: UUID) -> None:
        """Drops the document's staged chunks (an earlier run's, perhaps of an earlier
        revision, which `publish` would otherwise bring to life with the new ones)."""
        ...

    async def search(
        self, widget_id: UUID, query: SearchQuery, limit: int
    ) -> list[ScoredChunk]: ...

    async def unused_words(self, widget_id: UUID, words: Sequence[str]) -> list[str]:
        """Those of `words` that no live chunk of the widget holds, as search matches words
        (in any form: "licensed" is held where "license" is; stop words are never unused)."""
        ...

    async def delete_document(self, widget_id: UUID, document_id: UUID) -> None:
        """Its live and staged chunks."""
        ...

    async def delete_widget(self, widget_id: UUID) -> None: ...

    async def ping(self) -> None: ...
