"""In-memory VectorStore; tests/contract/test_vector_store.py keeps it in step with Qdrant."""

from __future__ import annotations

import math
from collections.abc import Sequence
from uuid import UUID

from application.ports import RetrievalMode, SearchQuery, Vector
from domain.errors import InvalidInputError, VectorStoreUnavailableError
from domain.models import Chunk, ScoredChunk


class MemoryVectorStore:
    """Exact cosine search over a dict. Set `available = False` to simulate an outage."""

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self.points: dict[UUID, tuple[Chunk, list[float]]] = {}
        self.available = True

    def _check_available(self) -> None:
        if not self.available:
            raise VectorStoreUnavailableError("the in-memory vector store is unavailable")

    def _check_vector(self, vector: Vector) -> None:
        if len(vector) != self.dimension:
            raise ValueError(f"expected a {self.dimension}-dimensional vector, got {len(vector)}")

    async def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[Vector]) -> None:
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        for vector in vectors:
            self._check_vector(vector)
        self._check_available()
        for chunk, vector in zip(chunks, vectors, strict=True):
            self.points[chunk.id] = (chunk, list(vector))

    async def search(self, widget_id: UUID, query: SearchQuery, limit: int) -> list[ScoredChunk]:
        if query.mode is not RetrievalMode.DENSE:
            raise InvalidInputError(
                f"retrieval mode {query.mode.value!r} is not supported yet; use 'dense'"
            )
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        self._check_vector(query.vector)
        self._check_available()
        hits = [
            ScoredChunk(chunk, _cosine(query.vector, vector))
            for chunk, vector in self.points.values()
            if chunk.widget_id == widget_id
        ]
        hits.sort(key=lambda hit: (-hit.score, hit.chunk.id))
        return hits[:limit]

    async def delete_document(
        self, widget_id: UUID, document_id: UUID, *, from_index: int = 0
    ) -> None:
        self._check_available()
        self.points = {
            point_id: (chunk, vector)
            for point_id, (chunk, vector) in self.points.items()
            if not (
                chunk.widget_id == widget_id
                and chunk.document_id == document_id
                and chunk.index >= from_index
            )
        }

    async def delete_widget(self, widget_id: UUID) -> None:
        self._check_available()
        self.points = {
            point_id: point
            for point_id, point in self.points.items()
            if point[0].widget_id != widget_id
        }

    async def count(self, widget_id: UUID, document_id: UUID | None = None) -> int:
        self._check_available()
        return sum(
            1
            for chunk, _ in self.points.values()
            if chunk.widget_id == widget_id
            and (document_id is None or chunk.document_id == document_id)
        )

    async def ping(self) -> None:
        self._check_available()

    async def close(self) -> None:
        self.available = False


def _cosine(a: Vector, b: Vector) -> float:
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    if norm == 0.0:
        return 0.0
    return sum(x * y for x, y in zip(a, b, strict=True)) / norm
