"""Chunks put in a vector store as processing puts them, and read back as a search sees them:
through the VectorStore port alone, so the same calls serve every store and its fake."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from application.ports.vectors import RetrievalMode, SearchQuery, Vector, VectorStore
from domain.models import Chunk

# More chunks than any test or benchmark holds in one widget.
EVERY = 10_000


async def index(store: VectorStore, chunks: Sequence[Chunk], vectors: Sequence[Vector]) -> None:
    """Stages the chunks, then publishes each of their documents, as processing does: a
    document's chunks replace its live ones, up to its highest chunk index."""
    await store.stage(chunks, vectors)
    ends: dict[tuple[UUID, UUID], int] = {}
    for chunk in chunks:
        key = (chunk.widget_id, chunk.document_id)
        ends[key] = max(ends.get(key, 0), chunk.index + 1)
    for (widget_id, document_id), end in ends.items():
        await store.publish(widget_id, document_id, end)


async def live_chunks(
    store: VectorStore, widget_id: UUID, dimension: int, document_id: UUID | None = None
) -> list[Chunk]:
    """Every chunk of the widget that answers can draw on (of one document, if given).

    A dense search reaches them all, since every chunk has a cosine to any question."""
    question = SearchQuery(
        text="", vector=[1.0] + [0.0] * (dimension - 1), mode=RetrievalMode.DENSE
    )
    found = await store.search(widget_id, question, EVERY)
    if len(found) == EVERY:
        raise AssertionError(f"the widget holds {EVERY} chunks or more: raise EVERY")
    chunks = [hit.chunk for hit in found]
    return chunks if document_id is None else [c for c in chunks if c.document_id == document_id]


async def live_ids(
    store: VectorStore, widget_id: UUID, dimension: int, document_id: UUID | None = None
) -> set[UUID]:
    return {chunk.id for chunk in await live_chunks(store, widget_id, dimension, document_id)}
