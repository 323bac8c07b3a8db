"""The VectorStore contract, run against the in-memory fake, Qdrant Edge and qdrant-client."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from uuid import UUID

import pytest
from qdrant_client import AsyncQdrantClient
from qdrant_client.http.exceptions import ApiException

from adapters.vectorstore.edge import EdgeVectorStore
from adapters.vectorstore.server import QdrantVectorStore
from application.ports import RetrievalMode, SearchQuery, VectorStore
from domain.errors import InvalidInputError, VectorStoreUnavailableError
from domain.models import Chunk
from tests.fakes.vectorstore import MemoryVectorStore

DIM = 4

pytestmark = pytest.mark.filterwarnings(
    # qdrant-client's local mode accepts payload indexes but does not use them.
    "ignore:Payload indexes have no effect:UserWarning"
)


async def open_qdrant_local(dimension: int = DIM) -> QdrantVectorStore:
    store = QdrantVectorStore(AsyncQdrantClient(location=":memory:"), "chunks", dimension)
    await store.ensure_collection()
    return store


@pytest.fixture(params=["memory", "edge", "qdrant-local"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[VectorStore]:
    opened: MemoryVectorStore | EdgeVectorStore | QdrantVectorStore
    if request.param == "memory":
        opened = MemoryVectorStore(DIM)
    elif request.param == "edge":
        opened = EdgeVectorStore(tmp_path / "shard", DIM)
    else:
        opened = await open_qdrant_local()
    yield opened
    await opened.close()


def make_chunk(
    widget_id: UUID,
    document_id: UUID,
    index: int = 0,
    *,
    chunk_id: UUID | None = None,
    text: str | None = None,
) -> Chunk:
    return Chunk(
        id=chunk_id or uuid.uuid4(),
        widget_id=widget_id,
        document_id=document_id,
        index=index,
        text=text or f"chunk {index}",
        title="Handbook",
        section="Intro" if index % 2 else None,
        page=index + 1 if index % 3 else None,
    )


def axis(i: int) -> list[float]:
    vector = [0.0] * DIM
    vector[i % DIM] = 1.0
    return vector


def query(vector: Sequence[float], mode: RetrievalMode = RetrievalMode.DENSE) -> SearchQuery:
    return SearchQuery(text="question", vector=vector, mode=mode)


async def ids_found(store: VectorStore, widget_id: UUID, vector: Sequence[float]) -> set[UUID]:
    return {hit.chunk.id for hit in await store.search(widget_id, query(vector), 100)}


async def test_search_finds_the_nearest_chunk_with_its_payload(store: VectorStore) -> None:
    widget, document = uuid.uuid4(), uuid.uuid4()
    chunks = [make_chunk(widget, document, i) for i in range(3)]
    await store.upsert(chunks, [axis(i) for i in range(3)])

    hits = await store.search(widget, query([0.1, 0.9, 0.1, 0.0]), 1)

    assert [hit.chunk for hit in hits] == [chunks[1]]


async def test_scores_are_cosine_similarities_sorted_best_first(store: VectorStore) -> None:
    widget, document = uuid.uuid4(), uuid.uuid4()
    vectors = [[-1.0, 0, 0, 0], [0, 1.0, 0, 0], [1.0, 1.0, 0, 0], [3.0, 0, 0, 0]]
    chunks = [make_chunk(widget, document, i) for i in range(4)]
    await store.upsert(chunks, vectors)

    hits = await store.search(widget, query([2.0, 0, 0, 0]), 4)

    assert [hit.chunk.index for hit in hits] == [3, 2, 1, 0]
    assert [hit.score for hit in hits] == pytest.approx([1.0, 0.5**0.5, 0.0, -1.0], abs=1e-6)


async def test_ties_are_ordered_by_chunk_id_even_at_the_limit(store: VectorStore) -> None:
    widget, document = uuid.uuid4(), uuid.uuid4()
    best = make_chunk(widget, document, 0)
    twins = [make_chunk(widget, document, i) for i in range(1, 6)]
    await store.upsert([best, *twins], [axis(0)] + [[1.0, 1.0, 0, 0]] * len(twins))
    by_id = sorted(twin.id for twin in twins)

    for limit in (1, 2, 3, 6):
        hits = await store.search(widget, query(axis(0)), limit)
        assert [hit.chunk.id for hit in hits] == [best.id, *by_id][:limit]


async def test_widgets_never_see_each_others_chunks(store: VectorStore) -> None:
    widget_a, widget_b = uuid.uuid4(), uuid.uuid4()
    document_a, document_b = uuid.uuid4(), uuid.uuid4()
    chunks_a = [make_chunk(widget_a, document_a, i) for i in range(3)]
    chunks_b = [make_chunk(widget_b, document_b, i) for i in range(2)]
    # The same vectors on both sides: only the widget filter can tell them apart.
    await store.upsert([*chunks_a, *chunks_b], [axis(i) for i in range(3)] + [axis(0), axis(1)])

    assert await ids_found(store, widget_a, axis(0)) == {c.id for c in chunks_a}
    assert await ids_found(store, widget_b, axis(0)) == {c.id for c in chunks_b}
    assert await store.count(widget_a) == 3
    assert await store.count(widget_b) == 2
    assert await store.count(widget_b, document_a) == 0

    await store.delete_document(widget_b, document_a)
    await store.delete_widget(widget_b)

    assert await store.count(widget_a) == 3
    assert await store.count(widget_a, document_a) == 3
    assert await store.count(widget_b) == 0
    assert await store.search(widget_b, query(axis(0)), 5) == []
    assert await ids_found(store, widget_a, axis(0)) == {c.id for c in chunks_a}


async def test_upserting_the_same_chunk_id_replaces_it(store: VectorStore) -> None:
    widget, document, chunk_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await store.upsert([make_chunk(widget, document, chunk_id=chunk_id, text="old")], [axis(0)])
    await store.upsert([make_chunk(widget, document, chunk_id=chunk_id, text="new")], [axis(1)])

    hits = await store.search(widget, query(axis(1)), 5)

    assert await store.count(widget) == 1
    assert [(hit.chunk.text, hit.score) for hit in hits] == [("new", pytest.approx(1.0))]


async def test_delete_document_drops_the_tail_from_an_index(store: VectorStore) -> None:
    widget, document, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    chunks = [make_chunk(widget, document, i) for i in range(5)]
    kept = [make_chunk(widget, other, i) for i in range(2)]
    await store.upsert([*chunks, *kept], [axis(i) for i in range(7)])

    await store.delete_document(widget, document, from_index=3)

    hits = await store.search(widget, query(axis(0)), 10)
    assert sorted(h.chunk.index for h in hits if h.chunk.document_id == document) == [0, 1, 2]
    assert await store.count(widget, other) == 2

    await store.delete_document(widget, document)

    assert await store.count(widget, document) == 0
    assert await store.count(widget, other) == 2


async def test_delete_widget_removes_all_its_chunks(store: VectorStore) -> None:
    widget = uuid.uuid4()
    documents = [uuid.uuid4(), uuid.uuid4()]
    await store.upsert(
        [make_chunk(widget, documents[i % 2], i) for i in range(6)], [axis(i) for i in range(6)]
    )

    await store.delete_widget(widget)

    assert await store.count(widget) == 0
    assert await store.search(widget, query(axis(0)), 5) == []


async def test_count_per_widget_and_per_document(store: VectorStore) -> None:
    widget, first, second = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    chunks = [make_chunk(widget, first, i) for i in range(3)]
    chunks += [make_chunk(widget, second, i) for i in range(4)]
    await store.upsert(chunks, [axis(i) for i in range(7)])

    assert await store.count(widget) == 7
    assert await store.count(widget, first) == 3
    assert await store.count(widget, second) == 4
    assert await store.count(widget, uuid.uuid4()) == 0
    assert await store.count(uuid.uuid4()) == 0


async def test_search_respects_the_limit(store: VectorStore) -> None:
    widget, document = uuid.uuid4(), uuid.uuid4()
    await store.upsert(
        [make_chunk(widget, document, i) for i in range(7)], [axis(i) for i in range(7)]
    )

    assert len(await store.search(widget, query(axis(0)), 3)) == 3
    assert len(await store.search(widget, query(axis(0)), 20)) == 7


async def test_only_dense_retrieval_is_supported(store: VectorStore) -> None:
    for mode in (RetrievalMode.SPARSE, RetrievalMode.HYBRID):
        with pytest.raises(InvalidInputError, match=mode.value):
            await store.search(uuid.uuid4(), query(axis(0), mode), 5)


async def test_malformed_calls_are_rejected(store: VectorStore) -> None:
    widget, document = uuid.uuid4(), uuid.uuid4()
    with pytest.raises(ValueError, match="2 chunks but 1 vectors"):
        await store.upsert([make_chunk(widget, document), make_chunk(widget, document)], [axis(0)])
    with pytest.raises(ValueError, match="dimensional"):
        await store.upsert([make_chunk(widget, document)], [[1.0, 0.0]])
    with pytest.raises(ValueError, match="dimensional"):
        await store.search(widget, query([1.0, 0.0]), 5)
    with pytest.raises(ValueError, match="limit"):
        await store.search(widget, query(axis(0)), 0)
    assert await store.count(widget) == 0


async def test_empty_upsert_is_a_no_op_and_ping_answers(store: VectorStore) -> None:
    await store.upsert([], [])
    await store.ping()


async def test_concurrent_calls_are_all_served(store: VectorStore) -> None:
    widget, document = uuid.uuid4(), uuid.uuid4()
    chunks = [make_chunk(widget, document, i) for i in range(20)]

    await asyncio.gather(
        *(store.upsert([chunk], [axis(chunk.index)]) for chunk in chunks),
        *(store.search(widget, query(axis(i)), 3) for i in range(20)),
    )

    assert await store.count(widget) == 20


# Qdrant Edge: one shard directory, opened once at a time, persisted across opens.


async def test_edge_data_survives_a_reopen(tmp_path: Path) -> None:
    widget, document = uuid.uuid4(), uuid.uuid4()
    chunks = [make_chunk(widget, document, i) for i in range(3)]
    store = EdgeVectorStore(tmp_path, DIM)
    await store.upsert(chunks, [axis(i) for i in range(3)])
    await store.close()

    reopened = EdgeVectorStore(tmp_path, DIM)
    try:
        hits = await reopened.search(widget, query(axis(2)), 1)
        assert await reopened.count(widget) == 3
        assert [hit.chunk for hit in hits] == [chunks[2]]
    finally:
        await reopened.close()


async def test_edge_a_second_open_of_an_open_shard_fails_clearly(tmp_path: Path) -> None:
    # Edge guards the shard with a lock on its write-ahead log, in this process or another;
    # the store turns the library's "WouldBlock" into a clear error at construction.
    store = EdgeVectorStore(tmp_path, DIM)
    with pytest.raises(VectorStoreUnavailableError, match="already open"):
        EdgeVectorStore(tmp_path, DIM)
    await store.ping()

    await store.close()
    reopened = EdgeVectorStore(tmp_path, DIM)
    await reopened.close()


async def test_edge_refuses_a_shard_of_another_dimension(tmp_path: Path) -> None:
    await EdgeVectorStore(tmp_path, DIM).close()

    with pytest.raises(VectorStoreUnavailableError, match="vector size"):
        EdgeVectorStore(tmp_path, DIM + 1)


async def test_edge_a_closed_store_is_unavailable(tmp_path: Path) -> None:
    store = EdgeVectorStore(tmp_path, DIM)
    await store.close()
    await store.close()

    with pytest.raises(VectorStoreUnavailableError, match="closed"):
        await store.ping()
    with pytest.raises(VectorStoreUnavailableError):
        await store.count(uuid.uuid4())


# qdrant-client: the collection is prepared idempotently; failures become domain errors.


async def test_qdrant_ensure_collection_is_idempotent() -> None:
    store = await open_qdrant_local()
    try:
        widget, document = uuid.uuid4(), uuid.uuid4()
        await store.upsert([make_chunk(widget, document)], [axis(0)])
        await store.ensure_collection()
        assert await store.count(widget) == 1
    finally:
        await store.close()


async def test_qdrant_refuses_a_collection_of_another_dimension() -> None:
    client = AsyncQdrantClient(location=":memory:")
    await QdrantVectorStore(client, "chunks", DIM).ensure_collection()

    with pytest.raises(ValueError, match="dimensional"):
        await QdrantVectorStore(client, "chunks", DIM + 1).ensure_collection()
    await client.close()


async def assert_unavailable(store: QdrantVectorStore) -> None:
    widget, document = uuid.uuid4(), uuid.uuid4()
    calls: list[Callable[[], Awaitable[object]]] = [
        store.ensure_collection,
        store.ping,
        lambda: store.upsert([make_chunk(widget, document)], [axis(0)]),
        lambda: store.search(widget, query(axis(0)), 5),
        lambda: store.count(widget),
        lambda: store.delete_document(widget, document),
        lambda: store.delete_widget(widget),
    ]
    for call in calls:
        with pytest.raises(VectorStoreUnavailableError) as caught:
            await call()
        assert isinstance(caught.value.__cause__, ApiException)


async def test_qdrant_connection_refused_is_unavailable() -> None:
    client = AsyncQdrantClient(url="http://127.0.0.1:1", timeout=1, check_compatibility=False)
    store = QdrantVectorStore(client, "chunks", DIM)
    try:
        await assert_unavailable(store)
    finally:
        await store.close()


async def test_qdrant_timeout_is_unavailable() -> None:
    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # hold the connection open until the client gives up
        writer.close()

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = AsyncQdrantClient(url=f"http://127.0.0.1:{port}", timeout=1, check_compatibility=False)
    store = QdrantVectorStore(client, "chunks", DIM)
    try:
        with pytest.raises(VectorStoreUnavailableError) as caught:
            await store.ping()
        assert isinstance(caught.value.__cause__, ApiException)
    finally:
        await store.close()
        server.close()
