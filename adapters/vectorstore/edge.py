"""VectorStore on Qdrant Edge: the Qdrant engine in-process, one shard directory per model."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import msgspec
from qdrant_edge import (
    CountRequest,
    Distance,
    EdgeConfig,
    EdgeShard,
    EdgeVectorParams,
    FieldCondition,
    Filter,
    KeywordIndexParams,
    MatchValue,
    PayloadSchemaType,
    Point,
    Query,
    QueryRequest,
    RangeFloat,
    ScoredPoint,
    UpdateOperation,
)

from application.ports import RetrievalMode, SearchQuery, Vector
from domain.errors import InvalidInputError, VectorStoreUnavailableError
from domain.models import Chunk, ScoredChunk

T = TypeVar("T")

DENSE = "dense"
# Every Edge call holds the GIL, so one big upsert would freeze the event loop for its whole
# duration; 256 points take ~5 ms, and the loop gets a turn between batches.
UPSERT_BATCH = 256


class EdgeVectorStore:
    """One Edge shard, driven from a single dedicated thread.

    Edge calls are synchronous and hold the GIL: they must stay off the event loop, and a
    single worker thread also serialises them. The shard is opened here, at construction,
    so a path that is already open (in this or another process) fails at startup.

    Writes are not flushed per upsert: the shard's write-ahead log already brings them back
    after a killed process, while a flush (~0.2 s, holding the GIL, so freezing the event
    loop) persists segments and shortens the log replay at the next start. It is done once,
    on close. Chunks are derived data: any lost to a power cut come back by re-processing.
    """

    def __init__(self, path: str | Path, dimension: int) -> None:
        self._path = Path(path)
        self._dimension = dimension
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qdrant-edge")
        try:
            self._shard = self._executor.submit(self._open).result()
        except Exception as exc:
            self._executor.shutdown()
            raise VectorStoreUnavailableError(_open_error(self._path, exc)) from exc
        self._closed = False

    def _open(self) -> EdgeShard:
        config = EdgeConfig(
            vectors={DENSE: EdgeVectorParams(size=self._dimension, distance=Distance.Cosine)}
        )
        if self._path.is_dir() and any(self._path.iterdir()):
            # Passing the config makes Edge reject a shard of another dimension.
            shard = EdgeShard.load(str(self._path), config)
        else:
            shard = EdgeShard.create(str(self._path), config)
        # Creating an existing index is a no-op, so older shards get the indexes too.
        shard.update(
            UpdateOperation.create_field_index("widget_id", KeywordIndexParams(is_tenant=True))
        )
        shard.update(UpdateOperation.create_field_index("document_id", PayloadSchemaType.Keyword))
        return shard

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise VectorStoreUnavailableError("the Qdrant Edge store is closed")
        return await self._submit(fn, *args)

    async def _submit(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        except Exception as exc:  # Edge raises bare Exception for every failure
            raise VectorStoreUnavailableError(f"Qdrant Edge failed: {exc}") from exc

    def _check_vector(self, vector: Vector) -> None:
        if len(vector) != self._dimension:
            raise ValueError(f"expected a {self._dimension}-dimensional vector, got {len(vector)}")

    async def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[Vector]) -> None:
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        for vector in vectors:
            self._check_vector(vector)
        for start in range(0, len(chunks), UPSERT_BATCH):
            end = start + UPSERT_BATCH
            await self._call(self._upsert, chunks[start:end], vectors[start:end])

    def _upsert(self, chunks: Sequence[Chunk], vectors: Sequence[Vector]) -> None:
        points = [
            Point(chunk.id, {DENSE: list(vector)}, _payload(chunk))
            for chunk, vector in zip(chunks, vectors, strict=True)
        ]
        self._shard.update(UpdateOperation.upsert_points(points))

    async def search(self, widget_id: UUID, query: SearchQuery, limit: int) -> list[ScoredChunk]:
        if query.mode is not RetrievalMode.DENSE:
            raise InvalidInputError(
                f"retrieval mode {query.mode.value!r} is not supported yet; use 'dense'"
            )
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        self._check_vector(query.vector)
        vector = list(query.vector)
        # Ask for one more than needed: while the extra hit ties with the last one kept,
        # the tie group is cut off, so widen until it is whole, then order ties by id.
        fetch = limit + 1
        while True:
            points = await self._call(self._query, widget_id, vector, fetch)
            if len(points) < fetch or points[-1].score != points[limit - 1].score:
                break
            fetch *= 2
        hits = sorted(
            (ScoredChunk(_chunk(p.id, p.payload), p.score) for p in points),
            key=lambda hit: (-hit.score, hit.chunk.id),
        )
        return hits[:limit]

    def _query(self, widget_id: UUID, vector: list[float], limit: int) -> list[ScoredPoint]:
        request = QueryRequest(
            limit=limit,
            query=Query.Nearest(vector, using=DENSE),
            filter=_filter(widget_id),
            with_payload=True,
        )
        return self._shard.query(request)

    async def delete_document(
        self, widget_id: UUID, document_id: UUID, *, from_index: int = 0
    ) -> None:
        condition = _filter(
            widget_id,
            _document(document_id),
            FieldCondition(key="index", range=RangeFloat(gte=from_index)),
        )
        await self._call(self._shard.update, UpdateOperation.delete_points_by_filter(condition))

    async def delete_widget(self, widget_id: UUID) -> None:
        operation = UpdateOperation.delete_points_by_filter(_filter(widget_id))
        await self._call(self._shard.update, operation)

    async def count(self, widget_id: UUID, document_id: UUID | None = None) -> int:
        conditions = [] if document_id is None else [_document(document_id)]
        request = CountRequest(exact=True, filter=_filter(widget_id, *conditions))
        return await self._call(self._shard.count, request)

    async def ping(self) -> None:
        await self._call(self._shard.info)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await self._submit(self._flush_and_close)
        finally:
            self._executor.shutdown(wait=False)

    def _flush_and_close(self) -> None:
        self._shard.flush()
        self._shard.close()


def _filter(widget_id: UUID, *conditions: FieldCondition) -> Filter:
    tenant = FieldCondition(key="widget_id", match=MatchValue(str(widget_id)))
    return Filter(must=[tenant, *conditions])


def _document(document_id: UUID) -> FieldCondition:
    return FieldCondition(key="document_id", match=MatchValue(str(document_id)))


def _payload(chunk: Chunk) -> dict[str, Any]:
    payload: dict[str, Any] = msgspec.to_builtins(chunk)
    del payload["id"]  # it is the point id
    return payload


def _chunk(point_id: object, payload: Any) -> Chunk:
    return msgspec.convert({**payload, "id": point_id}, Chunk)


def _open_error(path: Path, exc: Exception) -> str:
    if "WouldBlock" in str(exc):  # the WAL lock: Edge's only guard against a second opener
        return (
            f"the Qdrant Edge shard at {path} is already open, in this or another process; "
            "a shard can be opened once at a time"
        )
    return f"cannot open the Qdrant Edge shard at {path}: {exc}"
