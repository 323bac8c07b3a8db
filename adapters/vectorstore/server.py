"""VectorStore on a Qdrant server (or qdrant-client's local mode) through AsyncQdrantClient."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import grpc
import msgspec
from qdrant_client import AsyncQdrantClient, models
from qdrant_client.common.client_exceptions import QdrantException
from qdrant_client.http.exceptions import ApiException, UnexpectedResponse

from application.ports import RetrievalMode, SearchQuery, Vector
from domain.errors import InvalidInputError, VectorStoreUnavailableError
from domain.models import Chunk, ScoredChunk

DENSE = "dense"
# Keeps each request body (and the server's work per request) bounded.
UPSERT_BATCH = 256
# REST failures (connection, timeout, bad response) arrive as ApiException, rate limits as
# QdrantException, and the same failures over gRPC as RpcError.
_FAILURES = (ApiException, QdrantException, grpc.RpcError)


@contextmanager
def _translated(action: str) -> Iterator[None]:
    try:
        yield
    except _FAILURES as exc:
        raise VectorStoreUnavailableError(f"Qdrant could not {action}: {exc}") from exc


class QdrantVectorStore:
    """One collection per embedding model; every widget's chunks share it, filtered by id."""

    def __init__(self, client: AsyncQdrantClient, collection: str, dimension: int) -> None:
        self._client = client
        self._collection = collection
        self._dimension = dimension

    async def ensure_collection(self) -> None:
        with _translated("prepare the collection"):
            if await self._client.collection_exists(self._collection):
                await self._check_existing()
            else:
                await self._create()
            await self._client.create_payload_index(
                self._collection,
                "widget_id",
                models.KeywordIndexParams(type=models.KeywordIndexType.KEYWORD, is_tenant=True),
            )
            await self._client.create_payload_index(
                self._collection, "document_id", models.PayloadSchemaType.KEYWORD
            )

    async def _check_existing(self) -> None:
        info = await self._client.get_collection(self._collection)
        vectors = info.config.params.vectors
        params = vectors.get(DENSE) if isinstance(vectors, dict) else None
        if params is None or params.size != self._dimension:
            raise ValueError(
                f"collection {self._collection!r} has no {self._dimension}-dimensional "
                f"{DENSE!r} vector; use one collection per embedding model"
            )

    async def _create(self) -> None:
        try:
            await self._client.create_collection(
                self._collection,
                vectors_config={
                    DENSE: models.VectorParams(
                        size=self._dimension, distance=models.Distance.COSINE
                    )
                },
            )
        except UnexpectedResponse as exc:
            if exc.status_code != 409:  # another process created it first: fine
                raise

    def _check_vector(self, vector: Vector) -> None:
        if len(vector) != self._dimension:
            raise ValueError(f"expected a {self._dimension}-dimensional vector, got {len(vector)}")

    async def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[Vector]) -> None:
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        for vector in vectors:
            self._check_vector(vector)
        points = [
            models.PointStruct(
                id=str(chunk.id), vector={DENSE: list(vector)}, payload=_payload(chunk)
            )
            for chunk, vector in zip(chunks, vectors, strict=True)
        ]
        with _translated("store chunks"):
            for start in range(0, len(points), UPSERT_BATCH):
                batch = points[start : start + UPSERT_BATCH]
                await self._client.upsert(self._collection, batch, wait=True)

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
        with _translated("search"):
            while True:
                response = await self._client.query_points(
                    self._collection,
                    query=vector,
                    using=DENSE,
                    query_filter=_filter(widget_id),
                    limit=fetch,
                    with_payload=True,
                )
                points = response.points
                if len(points) < fetch or points[-1].score != points[limit - 1].score:
                    break
                fetch *= 2
        hits = sorted(
            (ScoredChunk(_chunk(p.id, p.payload), p.score) for p in points),
            key=lambda hit: (-hit.score, hit.chunk.id),
        )
        return hits[:limit]

    async def delete_document(
        self, widget_id: UUID, document_id: UUID, *, from_index: int = 0
    ) -> None:
        condition = _filter(
            widget_id,
            _document(document_id),
            models.FieldCondition(key="index", range=models.Range(gte=from_index)),
        )
        await self._delete(condition)

    async def delete_widget(self, widget_id: UUID) -> None:
        await self._delete(_filter(widget_id))

    async def _delete(self, condition: models.Filter) -> None:
        with _translated("delete chunks"):
            await self._client.delete(
                self._collection, models.FilterSelector(filter=condition), wait=True
            )

    async def count(self, widget_id: UUID, document_id: UUID | None = None) -> int:
        conditions = [] if document_id is None else [_document(document_id)]
        with _translated("count chunks"):
            result = await self._client.count(
                self._collection, count_filter=_filter(widget_id, *conditions), exact=True
            )
        return result.count

    async def ping(self) -> None:
        with _translated("answer"):
            await self._client.get_collection(self._collection)

    async def close(self) -> None:
        await self._client.close()


def _filter(widget_id: UUID, *conditions: models.FieldCondition) -> models.Filter:
    tenant = models.FieldCondition(key="widget_id", match=models.MatchValue(value=str(widget_id)))
    return models.Filter(must=[tenant, *conditions])


def _document(document_id: UUID) -> models.FieldCondition:
    return models.FieldCondition(key="document_id", match=models.MatchValue(value=str(document_id)))


def _payload(chunk: Chunk) -> dict[str, Any]:
    payload: dict[str, Any] = msgspec.to_builtins(chunk)
    del payload["id"]  # it is the point id
    return payload


def _chunk(point_id: object, payload: Any) -> Chunk:
    return msgspec.convert({**payload, "id": point_id}, Chunk)
