"""VectorStore on Qdrant Edge: the Qdrant engine in-process, one shard directory per model."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from itertools import repeat
from operator import attrgetter
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from qdrant_edge import (
    Distance,
    EdgeConfig,
    EdgeShard,
    EdgeSparseVectorParams,
    EdgeVectorParams,
    FieldCondition,
    Filter,
    HasIdCondition,
    IdfParams,
    KeywordIndexParams,
    MatchValue,
    Modifier,
    PayloadSchemaType,
    Point,
    Query,
    QueryBatchRequest,
    QueryRequest,
    RangeFloat,
    SearchParams,
    SparseVector,
    UpdateOperation,
)

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
    run,
    unused,
)
from adapters.vectorstore.sparse import encode_chunk
from application.ports.vectors import SearchQuery, Vector
from domain.errors import VectorStoreUnavailableError
from domain.models import Chunk, ScoredChunk

T = TypeVar("T")


class EdgeVectorStore:
    """One Edge shard, driven from a single dedicated thread.

    Edge calls are synchronous and hold the GIL: they must stay off the event loop, and a
    single worker thread also serialises them. A whole search plan runs in that thread, so
    its several engine calls cost one hop from the loop. The shard is opened here, at
    construction, so a path that is already open (in this or another process) fails at
    startup.

    Writes are not flushed per call: the shard's write-ahead log already brings them back
    after a killed process, while a flush (~0.2 s, holding the GIL, so freezing the event
    loop) persists segments and shortens the log replay at the next start. It is done once,
    on close. Chunks are derived data: any lost to a power cut come back by re-processing.
    """

    def __init__(self, path: str | Path, dimension: int, tuning: Tuning | None = None) -> None:
        self._path = Path(path)
        self._dimension = dimension
        self._tuning = tuning or Tuning()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qdrant-edge")
        try:
            self._shard = self._executor.submit(self._open).result()
        except Exception as exc:
            self._executor.shutdown()
            raise VectorStoreUnavailableError(_open_error(self._path, exc)) from exc
        self._closed = False

    def _open(self) -> EdgeShard:
        config = EdgeConfig(
            vectors={DENSE: EdgeVectorParams(size=self._dimension, distance=Distance.Cosine)},
            sparse_vectors={SPARSE: EdgeSparseVectorParams(modifier=Modifier.Idf)},
        )
        if self._path.is_dir() and any(self._path.iterdir()):
            # Passing the config makes Edge reject a shard of another layout or dimension.
            shard = EdgeShard.load(str(self._path), config)
        else:
            shard = EdgeShard.create(str(self._path), config)
        # Creating an existing index is a no-op, so older shards get the indexes too.
        shard.update(UpdateOperation.create_field_index(WIDGET, KeywordIndexParams(is_tenant=True)))
        shard.update(UpdateOperation.create_field_index(DOCUMENT, PayloadSchemaType.Keyword))
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

    async def stage(self, chunks: Sequence[Chunk], vectors: Sequence[Vector]) -> None:
        check_stage(chunks, vectors, self._dimension)
        for start in range(0, len(chunks), UPSERT_BATCH):
            end = start + UPSERT_BATCH
            await self._call(self._stage, chunks[start:end], vectors[start:end])

    def _stage(self, chunks: Sequence[Chunk], vectors: Sequence[Vector]) -> None:
        points = [
            Point(
                chunk.id,
                {DENSE: list(vector), SPARSE: SparseVector(*encode_chunk(chunk))},
                staged_payload(chunk),
            )
            for chunk, vector in zip(chunks, vectors, strict=True)
        ]
        self._shard.update(UpdateOperation.upsert_points(points))

    async def publish(self, widget_id: UUID, document_id: UUID, chunk_count: int) -> None:
        await self._call(self._apply, changes.publishing(widget_id, document_id, chunk_count))

    async def search(self, widget_id: UUID, query: SearchQuery, limit: int) -> list[ScoredChunk]:
        check_search(query, limit, self._dimension)
        return await self._call(self._search, widget_id, query, limit)

    def _search(self, widget_id: UUID, query: SearchQuery, limit: int) -> list[ScoredChunk]:
        # The engine's UUID of each point this search has met, by its text: the later steps
        # name those points again, and the binding reads a UUID it is handed in about half
        # the time it takes to parse the text (~1 µs against ~1.8 µs an id).
        met: dict[PointId, UUID] = {}

        def execute(step: Step) -> Any:
            if isinstance(step, Fetch):
                return self._fetch(step, met)
            return self._nearest(widget_id, step, met)

        return run(plan(query, limit, self._tuning), execute)

    async def unused_words(self, widget_id: UUID, words: Sequence[str]) -> list[str]:
        return await self._call(self._unused, widget_id, words)

    def _unused(self, widget_id: UUID, words: Sequence[str]) -> list[str]:
        met: dict[PointId, UUID] = {}
        return run(unused(words), lambda step: self._nearest(widget_id, step, met))

    def _nearest(
        self, widget_id: UUID, searches: tuple[Nearest, ...], met: dict[PointId, UUID]
    ) -> list[list[Hit]]:
        live = _conditions(changes.live(widget_id))
        # BM25's document frequencies over this widget's chunks, not every tenant's: a
        # widget's ranking must not move when another tenant uploads documents.
        own_idf = SearchParams(idf=IdfParams(corpus=Filter(must=live)))
        # The feedback's searches share one candidate set: the engine parses its ids once.
        among: dict[int, HasIdCondition] = {}
        for search in searches:
            if search.among is not None and id(search.among) not in among:
                among[id(search.among)] = HasIdCondition(set(_engine_ids(search.among, met)))
        requests = [
            _request(search, live, among.get(id(search.among)), own_idf) for search in searches
        ]
        found = self._shard.query_batch(QueryBatchRequest(requests))
        return [_hits(points, met) for points in found]

    def _fetch(self, step: Fetch, met: dict[PointId, UUID]) -> dict[PointId, Stored]:
        ids = _engine_ids(step.ids, met)
        if not step.vectors:
            records = self._shard.retrieve(ids, True, [SPARSE] if step.terms else False)
            return {_key(record.id): _stored(record) for record in records}
        if step.dense is None:
            records = self._shard.retrieve(ids, False, [DENSE, SPARSE])
            return {_key(record.id): _stored(record) for record in records}
        # Two reads, so that only the dense vectors asked for are converted for Python.
        sparse = self._shard.retrieve(ids, False, [SPARSE])
        stored = {_key(record.id): _stored(record) for record in sparse}
        for record in self._shard.retrieve(_engine_ids(step.dense, met), False, [DENSE]):
            key = _key(record.id)
            stored[key] = stored.get(key, Stored())._replace(dense=_stored(record).dense)
        return stored

    async def discard_staged(self, widget_id: UUID, document_id: UUID) -> None:
        await self._call(self._apply, changes.discarding_staged(widget_id, document_id))

    async def delete_document(self, widget_id: UUID, document_id: UUID) -> None:
        await self._call(self._apply, changes.deleting_document(widget_id, document_id))

    async def delete_widget(self, widget_id: UUID) -> None:
        await self._call(self._apply, changes.deleting_widget(widget_id))

    def _apply(self, planned: Sequence[changes.Change]) -> None:
        # One call on the store's only thread: no search runs between these updates.
        for change in planned:
            self._shard.update(_update(change))

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


def _filter(points: changes.Points) -> Filter:
    return Filter(must=_conditions(points))


def _conditions(points: changes.Points) -> list[Any]:
    must = [FieldCondition(key=WIDGET, match=MatchValue(points.tenant))]
    if points.document is not None:
        must.append(FieldCondition(key=DOCUMENT, match=MatchValue(str(points.document))))
    if points.from_index is not None:
        must.append(FieldCondition(key=INDEX, range=RangeFloat(gte=points.from_index)))
    return must


def _update(change: changes.Change) -> UpdateOperation:
    if isinstance(change, changes.Delete):
        return UpdateOperation.delete_points_by_filter(_filter(change.points))
    return UpdateOperation.set_payload_by_filter(_filter(change.points), {WIDGET: change.tenant})


def _request(
    search: Nearest, live: list[Any], among: HasIdCondition | None, own_idf: SearchParams
) -> QueryRequest:
    vector = search.vector
    sparse = isinstance(vector, Sparse)
    return QueryRequest(
        limit=search.limit,
        query=Query.Nearest(SparseVector(*vector) if sparse else vector, using=search.using),
        filter=Filter(must=live if among is None else [*live, among]),
        params=own_idf if sparse else None,
        with_payload=False,
    )


_ID = attrgetter("id")
_INT = attrgetter("int")
_SCORE = attrgetter("score")
_new_tuple = tuple.__new__


def _hits(points: list[Any], met: dict[PointId, UUID]) -> list[Hit]:
    """The engine's points as `Hit`s, a few hundred a search, in C loops (this shard holds
    only UUID ids, chunk ids; the binding's own `UUID` per point is the larger cost), and
    their UUIDs kept in `met`."""
    uuids = list(map(_ID, points))
    keys = list(map(_uuid_text, map(_INT, uuids)))
    met.update(zip(keys, uuids, strict=True))
    return list(map(_new_tuple, repeat(Hit), zip(keys, map(_SCORE, points), strict=True)))


def _engine_ids(keys: Iterable[PointId], met: dict[PointId, UUID]) -> list[UUID | PointId]:
    """The ids to hand the engine: the UUIDs met, or the text of any other."""
    keys = list(keys)
    return list(map(met.get, keys, keys))


def _key(point_id: object) -> PointId:
    """point_key, with the text of the engine's UUIDs remembered: a search reads a few
    hundred ids, the same candidates again and again, and `str(UUID)` runs in Python."""
    if isinstance(point_id, UUID):
        return _uuid_text(point_id.int)
    return point_key(point_id)


@lru_cache(maxsize=8192)  # ~1.5 MB at most: the candidates of the widgets asked lately
def _uuid_text(value: int) -> str:
    return str(UUID(int=value))


def _stored(record: Any) -> Stored:
    vectors = record.vector  # each access converts the whole record: read it once
    vectors = vectors if isinstance(vectors, dict) else {}
    sparse = vectors.get(SPARSE)
    return Stored(
        payload=record.payload,
        dense=vectors.get(DENSE),
        sparse=None if sparse is None else Sparse(tuple(sparse.indices), tuple(sparse.values)),
    )


def _open_error(path: Path, exc: Exception) -> str:
    if "WouldBlock" in str(exc):  # the WAL lock: Edge's only guard against a second opener
        return (
            f"the Qdrant Edge shard at {path} is already open, in this or another process; "
            "a shard can be opened once at a time"
        )
    if SPARSE in str(exc):
        return (
            f"the Qdrant Edge shard at {path} predates hybrid retrieval (it has no {SPARSE!r} "
            "sparse vector): delete the directory and process the documents again"
        )
    return f"cannot open the Qdrant Edge shard at {path}: {exc}"
