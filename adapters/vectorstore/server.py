"""VectorStore on a Qdrant server (or qdrant-client's local mode) through AsyncQdrantClient."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import grpc
from qdrant_client import AsyncQdrantClient, models
from qdrant_client.common.client_exceptions import QdrantException
from qdrant_client.http.exceptions import ApiException, UnexpectedResponse

from adapters.vectorstore import changes
from adapters.vectorstore.common import (
    DENSE,
    DOCUMENT,
    INDEX,
    SPARSE,
    UPSERT_BATCH,
    WIDGET,
    Sparse,
    check_search,
    check_stage,
    point_key,
    staged_payload,
)
from adapters.vectorstore.retrieval import (
    Fetch,
    Hit,
    Nearest,
    PointId,
    Step,
    Stored,
    Tuning,
    plan,
    run_async,
    unused,
)
from adapters.vectorstore.sparse import encode_chunk
from application.ports.vectors import SearchQuery, Vector
from domain.errors import VectorStoreUnavailableError
from domain.models import Chunk, ScoredChunk

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
    """One collection per embedding model; every widget's chunks share it, filtered by id.

    This is Qdrant's layout for many small tenants: `widget_id` is a keyword index marked
    as the tenant key, and every read and delete here carries the widget's filter.
    """

    def __init__(
        self,
        client: AsyncQdrantClient,
        collection: str,
        dimension: int,
        tuning: Tuning | None = None,
    ) -> None:
        self._client = client
        self._collection = collection
        self._dimension = dimension
        self._tuning = tuning or Tuning()

    async def ensure_collection(self) -> None:
        with _translated("prepare the collection"):
            if await self._client.collection_exists(self._collection):
                await self._check_existing()
            else:
                await self._create()
            await self._client.create_payload_index(
                self._collection,
                WIDGET,
                models.KeywordIndexParams(type=models.KeywordIndexType.KEYWORD, is_tenant=True),
            )
            await self._client.create_payload_index(
                self._collection, DOCUMENT, models.PayloadSchemaType.KEYWORD
            )

    async def _check_existing(self) -> None:
        params = (await self._client.get_collection(self._collection)).config.params
        vectors = params.vectors.get(DENSE) if isinstance(params.vectors, dict) else None
        if vectors is None or vectors.size != self._dimension:
            raise ValueError(
                f"collection {self._collection!r} has no {self._dimension}-dimensional "
                f"{DENSE!r} vector; use one collection per embedding model"
            )
        sparse = (params.sparse_vectors or {}).get(SPARSE)
        if sparse is None or sparse.modifier != models.Modifier.IDF:
            raise ValueError(
                f"collection {self._collection!r} predates hybrid retrieval (it has no "
                f"{SPARSE!r} sparse vector with the IDF modifier): delete it and process the "
                "documents again"
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
                sparse_vectors_config={
                    SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)
                },
            )
        except UnexpectedResponse as exc:
            if exc.status_code != 409:  # another process created it first: fine
                raise

    async def stage(self, chunks: Sequence[Chunk], vectors: Sequence[Vector]) -> None:
        check_stage(chunks, vectors, self._dimension)
        points = [
            models.PointStruct(
                id=str(chunk.id),
                vector={DENSE: list(vector), SPARSE: _sparse(encode_chunk(chunk))},
                payload=staged_payload(chunk),
            )
            for chunk, vector in zip(chunks, vectors, strict=True)
        ]
        with _translated("store chunks"):
            for start in range(0, len(points), UPSERT_BATCH):
                batch = points[start : start + UPSERT_BATCH]
                await self._client.upsert(self._collection, batch, wait=True)

    async def publish(self, widget_id: UUID, document_id: UUID, chunk_count: int) -> None:
        # One request, applied in order; Qdrant does not isolate a batch from concurrent
        # searches, so the window where both versions or neither show is that of one
        # request's three operations (an in-process Edge store has none at all).
        await self._apply(changes.publishing(widget_id, document_id, chunk_count), "publish chunks")

    async def search(self, widget_id: UUID, query: SearchQuery, limit: int) -> list[ScoredChunk]:
        check_search(query, limit, self._dimension)

        async def execute(step: Step) -> Any:
            if isinstance(step, Fetch):
                return await self._fetch(step)
            return await self._nearest(widget_id, step)

        with _translated("search"):
            return await run_async(plan(query, limit, self._tuning), execute)

    async def unused_words(self, widget_id: UUID, words: Sequence[str]) -> list[str]:
        async def execute(step: Step) -> Any:
            return await self._nearest(widget_id, step)

        with _translated("search"):
            return await run_async(unused(words), execute)

    async def _nearest(self, widget_id: UUID, searches: tuple[Nearest, ...]) -> list[list[Hit]]:
        live = changes.live(widget_id)
        # BM25's document frequencies over this widget's chunks, not every tenant's.
        own_idf = models.SearchParams(idf=models.IdfCorpusParams(corpus=_filter(live)))
        requests = [
            models.QueryRequest(
                query=_sparse(s.vector) if isinstance(s.vector, Sparse) else s.vector,
                using=s.using,
                filter=_filter(live, *_among(s)),
                params=own_idf if isinstance(s.vector, Sparse) else None,
                limit=s.limit,
                with_payload=False,
            )
            for s in searches
        ]
        responses = await self._client.query_batch_points(self._collection, requests)
        return [[Hit(point_key(p.id), p.score) for p in r.points] for r in responses]

    async def _fetch(self, step: Fetch) -> dict[PointId, Stored]:
        records = await self._client.retrieve(
            self._collection,
            list(step.ids),
            with_payload=not step.vectors,
            with_vectors=[DENSE, SPARSE] if step.vectors else [SPARSE] if step.terms else False,
        )
        return {point_key(record.id): _stored(record) for record in records}

    async def discard_staged(self, widget_id: UUID, document_id: UUID) -> None:
        await self._apply(changes.discarding_staged(widget_id, document_id), "discard chunks")

    async def delete_document(self, widget_id: UUID, document_id: UUID) -> None:
        await self._apply(changes.deleting_document(widget_id, document_id), "delete chunks")

    async def delete_widget(self, widget_id: UUID) -> None:
        await self._apply(changes.deleting_widget(widget_id), "delete chunks")

    async def _apply(self, planned: Sequence[changes.Change], action: str) -> None:
        operations = [_operation(change) for change in planned]
        with _translated(action):
            await self._client.batch_update_points(self._collection, operations, wait=True)

    async def ping(self) -> None:
        with _translated("answer"):
            await self._client.get_collection(self._collection)

    async def close(self) -> None:
        await self._client.close()


def _filter(points: changes.Points, *conditions: Any) -> models.Filter:
    tenant = models.FieldCondition(key=WIDGET, match=models.MatchValue(value=points.tenant))
    must = [tenant, *conditions]
    if points.document is not None:
        document = models.MatchValue(value=str(points.document))
        must.append(models.FieldCondition(key=DOCUMENT, match=document))
    if points.from_index is not None:
        index = models.Range(gte=points.from_index)
        must.append(models.FieldCondition(key=INDEX, range=index))
    return models.Filter(must=must)


def _operation(change: changes.Change) -> models.DeleteOperation | models.SetPayloadOperation:
    if isinstance(change, changes.Delete):
        selector = models.FilterSelector(filter=_filter(change.points))
        return models.DeleteOperation(delete=selector)
    relabel = models.SetPayload(payload={WIDGET: change.tenant}, filter=_filter(change.points))
    return models.SetPayloadOperation(set_payload=relabel)


def _among(search: Nearest) -> list[models.HasIdCondition]:
    if search.among is None:
        return []
    return [models.HasIdCondition(has_id=list(search.among))]


def _sparse(vector: Sparse) -> models.SparseVector:
    return models.SparseVector(indices=list(vector.indices), values=list(vector.values))


def _stored(record: models.Record) -> Stored:
    vectors = record.vector if isinstance(record.vector, dict) else {}
    dense, sparse = vectors.get(DENSE), vectors.get(SPARSE)
    return Stored(
        payload=record.payload,
        dense=dense if isinstance(dense, list) else None,
        sparse=(
            Sparse(tuple(sparse.indices), tuple(sparse.values))
            if isinstance(sparse, models.SparseVector)
            else None
        ),
    )
