"""In-memory VectorStore; tests/contract/test_vector_store.py keeps it in step with Qdrant.

It runs the adapters' own retrieval plans over exact in-memory searches: cosine for the
dense vector, and BM25 with Qdrant's IDF (over every stored point, as Qdrant's default
collection-wide statistics are) for the sparse one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from adapters.vectorstore import changes
from adapters.vectorstore.common import Sparse, check_search, check_stage, payload, staged
from adapters.vectorstore.retrieval import (
    Fetch,
    Hit,
    Nearest,
    Step,
    Stored,
    Tuning,
    plan,
    run,
    unused,
)
from adapters.vectorstore.sparse import encode_chunk
from application.ports.vectors import SearchQuery, Vector
from domain.errors import VectorStoreUnavailableError
from domain.models import Chunk, ScoredChunk


class MemoryVectorStore:
    """Exact search over a dict. Set `available = False` to simulate an outage."""

    def __init__(self, dimension: int, tuning: Tuning | None = None) -> None:
        self.dimension = dimension
        self.tuning = tuning or Tuning()
        self.points: dict[UUID, tuple[Chunk, list[float], Sparse]] = {}
        self.staged: set[UUID] = set()
        self.available = True

    def _check_available(self) -> None:
        if not self.available:
            raise VectorStoreUnavailableError("the in-memory vector store is unavailable")

    async def stage(self, chunks: Sequence[Chunk], vectors: Sequence[Vector]) -> None:
        check_stage(chunks, vectors, self.dimension)
        self._check_available()
        for chunk, vector in zip(chunks, vectors, strict=True):
            # Like the engines' upsert: a chunk id staged again, live or not, is replaced.
            self.points[chunk.id] = (chunk, list(vector), encode_chunk(chunk))
            self.staged.add(chunk.id)

    async def publish(self, widget_id: UUID, document_id: UUID, chunk_count: int) -> None:
        self._apply(changes.publishing(widget_id, document_id, chunk_count))

    async def search(self, widget_id: UUID, query: SearchQuery, limit: int) -> list[ScoredChunk]:
        check_search(query, limit, self.dimension)
        self._check_available()

        def execute(step: Step) -> Any:
            if isinstance(step, Fetch):
                return self._fetch(step)
            return [self._nearest(widget_id, search) for search in step]

        return run(plan(query, limit, self.tuning), execute)

    async def unused_words(self, widget_id: UUID, words: Sequence[str]) -> list[str]:
        self._check_available()
        return run(unused(words), lambda step: [self._nearest(widget_id, s) for s in step])

    def _nearest(self, widget_id: UUID, step: Nearest) -> list[Hit]:
        searched = changes.live(widget_id)
        live = [
            point
            for point in self.points.values()
            if _within(searched, point[0], self._tenant(point[0]))
        ]
        candidates = [p for p in live if step.among is None or str(p[0].id) in step.among]
        if isinstance(step.vector, Sparse):
            # BM25's rarity over the widget's own chunks, as the stores scope it.
            weights = _idf_weighted(step.vector, [sparse for _, _, sparse in live])
            hits = [
                Hit(str(chunk.id), _dot(weights, sparse))
                for chunk, _, sparse in candidates
                if weights.keys() & set(sparse.indices)
            ]
        else:
            hits = [Hit(str(c.id), _cosine(step.vector, dense)) for c, dense, _ in candidates]
        hits.sort(key=lambda hit: (-hit.score, hit.id))
        return hits[: step.limit]

    def _fetch(self, step: Fetch) -> dict[str, Stored]:
        found = {}
        for point_id in step.ids:
            if (point := self.points.get(UUID(point_id))) is not None:
                chunk, dense, sparse = point
                if step.vectors:
                    found[point_id] = Stored(dense=dense, sparse=sparse)
                else:
                    found[point_id] = Stored(payload(chunk), sparse=sparse if step.terms else None)
        return found

    async def discard_staged(self, widget_id: UUID, document_id: UUID) -> None:
        self._apply(changes.discarding_staged(widget_id, document_id))

    async def delete_document(self, widget_id: UUID, document_id: UUID) -> None:
        self._apply(changes.deleting_document(widget_id, document_id))

    async def delete_widget(self, widget_id: UUID) -> None:
        self._apply(changes.deleting_widget(widget_id))

    def _apply(self, planned: Sequence[changes.Change]) -> None:
        """The adapters' changes, on the dict: a point's tenant key is its widget's id, or
        its staged form while the point is staged."""
        self._check_available()
        for change in planned:
            picked = [
                point_id
                for point_id, (chunk, _, _) in self.points.items()
                if _within(change.points, chunk, self._tenant(chunk))
            ]
            for point_id in picked:
                if isinstance(change, changes.Delete):
                    del self.points[point_id]
                    self.staged.discard(point_id)
                elif change.tenant == staged(self.points[point_id][0].widget_id):
                    self.staged.add(point_id)
                else:
                    self.staged.discard(point_id)

    def _tenant(self, chunk: Chunk) -> str:
        return staged(chunk.widget_id) if chunk.id in self.staged else str(chunk.widget_id)

    async def ping(self) -> None:
        self._check_available()

    async def close(self) -> None:
        self.available = False


def _within(points: changes.Points, chunk: Chunk, tenant: str) -> bool:
    return (
        tenant == points.tenant
        and points.document in (None, chunk.document_id)
        and (points.from_index is None or chunk.index >= points.from_index)
    )


def _dot(weights: dict[int, float], sparse: Sparse) -> float:
    return math.fsum(
        weights[index] * value
        for index, value in zip(sparse.indices, sparse.values, strict=True)
        if index in weights
    )


def _cosine(a: Vector, b: Vector) -> float:
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    if norm == 0.0:
        return 0.0
    return sum(x * y for x, y in zip(a, b, strict=True)) / norm


def _idf_weighted(question: Sparse, corpus: list[Sparse]) -> dict[int, float]:
    total = len(corpus)
    frequency = dict.fromkeys(question.indices, 0)
    for sparse in corpus:
        for index in sparse.indices:
            if index in frequency:
                frequency[index] += 1
    return {
        index: value * math.log((total - frequency[index] + 0.5) / (frequency[index] + 0.5) + 1)
        for index, value in zip(question.indices, question.values, strict=True)
    }
