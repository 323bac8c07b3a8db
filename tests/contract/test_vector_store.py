"""The VectorStore contract, run against the in-memory fake, Qdrant Edge and qdrant-client."""

from __future__ import annotations

import asyncio
import math
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from uuid import UUID

import msgspec
import pytest
from qdrant_client import AsyncQdrantClient
from qdrant_client.http.exceptions import ApiException
from qdrant_client.models import Distance as QdrantDistance
from qdrant_client.models import VectorParams
from qdrant_edge import Distance, EdgeConfig, EdgeShard, EdgeVectorParams

from adapters.vectorstore.common import Sparse
from adapters.vectorstore.edge import EdgeVectorStore
from adapters.vectorstore.retrieval import Tuning, expand, fuse, rocchio
from adapters.vectorstore.server import QdrantVectorStore
from application.ports.vectors import RetrievalMode, SearchQuery, VectorStore
from domain.errors import VectorStoreUnavailableError
from domain.models import Chunk
from testkit.fakes.vectorstore import MemoryVectorStore
from testkit.vectors import index, live_ids

DIM = 4

pytestmark = pytest.mark.filterwarnings(
    # qdrant-client's local mode accepts payload indexes but does not use them.
    "ignore:Payload indexes have no effect:UserWarning"
)


async def open_qdrant_local(
    dimension: int = DIM, tuning: Tuning | None = None
) -> QdrantVectorStore:
    client = AsyncQdrantClient(location=":memory:")
    store = QdrantVectorStore(client, "chunks", dimension, tuning)
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


async def ids_found(
    store: VectorStore,
    widget_id: UUID,
    vector: Sequence[float],
    mode: RetrievalMode = RetrievalMode.DENSE,
) -> set[UUID]:
    found = await store.search(widget_id, SearchQuery("chunk", vector, mode), 100)
    return {hit.chunk.id for hit in found}


async def test_search_finds_the_nearest_chunk_with_its_payload(store: VectorStore) -> None:
    widget, document = uuid.uuid4(), uuid.uuid4()
    chunks = [make_chunk(widget, document, i) for i in range(3)]
    await index(store, chunks, [axis(i) for i in range(3)])

    hits = await store.search(widget, query([0.1, 0.9, 0.1, 0.0]), 1)

    assert [hit.chunk for hit in hits] == [chunks[1]]


async def test_scores_are_cosine_similarities_sorted_best_first(store: VectorStore) -> None:
    widget, document = uuid.uuid4(), uuid.uuid4()
    vectors = [[-1.0, 0, 0, 0], [0, 1.0, 0, 0], [1.0, 1.0, 0, 0], [3.0, 0, 0, 0]]
    chunks = [make_chunk(widget, document, i) for i in range(4)]
    await index(store, chunks, vectors)

    hits = await store.search(widget, query([2.0, 0, 0, 0]), 4)

    assert [hit.chunk.index for hit in hits] == [3, 2, 1, 0]
    assert [hit.score for hit in hits] == pytest.approx([1.0, 0.5**0.5, 0.0, -1.0], abs=1e-6)


async def test_ties_are_ordered_by_chunk_id_even_at_the_limit(store: VectorStore) -> None:
    widget, document = uuid.uuid4(), uuid.uuid4()
    best = make_chunk(widget, document, 0)
    twins = [make_chunk(widget, document, i) for i in range(1, 6)]
    await index(store, [best, *twins], [axis(0)] + [[1.0, 1.0, 0, 0]] * len(twins))
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
    await index(store, [*chunks_a, *chunks_b], [axis(i) for i in range(3)] + [axis(0), axis(1)])

    for mode in RetrievalMode:
        assert await ids_found(store, widget_a, axis(0), mode) == {c.id for c in chunks_a}
        assert await ids_found(store, widget_b, axis(0), mode) == {c.id for c in chunks_b}
    assert await live_ids(store, widget_b, DIM, document_a) == set()

    # Another widget's deletes, even naming this widget's document, touch nothing here.
    await store.delete_document(widget_b, document_a)
    await store.delete_widget(widget_b)

    assert await live_ids(store, widget_a, DIM, document_a) == {c.id for c in chunks_a}
    assert await store.search(widget_b, query(axis(0)), 5) == []
    assert await ids_found(store, widget_a, axis(0)) == {c.id for c in chunks_a}


async def test_a_chunk_id_staged_again_is_replaced(store: VectorStore) -> None:
    # A retried run stages the same chunk ids (they derive from document, revision and
    # index), over its killed predecessor's staged chunks or over live ones.
    widget, document, chunk_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    def version(text: str) -> Chunk:
        return make_chunk(widget, document, chunk_id=chunk_id, text=text)

    await store.stage([version("first")], [axis(0)])
    await store.stage([version("second")], [axis(1)])
    await store.publish(widget, document, 1)
    assert [h.chunk.text for h in await store.search(widget, query(axis(1)), 5)] == ["second"]

    await store.stage([version("third")], [axis(2)])
    await store.publish(widget, document, 1)

    hits = await store.search(widget, query(axis(2)), 5)
    assert [(hit.chunk.text, hit.score) for hit in hits] == [("third", pytest.approx(1.0))]


async def test_staged_chunks_stay_unseen_until_published(store: VectorStore) -> None:
    widget, document = uuid.uuid4(), uuid.uuid4()
    staged = [make_chunk(widget, document, i, text=f"new {i}") for i in range(3)]
    await store.stage(staged, [axis(i) for i in range(3)])

    for mode in RetrievalMode:
        assert await store.search(widget, query(axis(0), mode), 10) == []

    await store.publish(widget, document, 3)

    assert await ids_found(store, widget, axis(0)) == {c.id for c in staged}


async def test_publishing_replaces_a_documents_live_chunks_at_once(store: VectorStore) -> None:
    widget, document, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    old = [make_chunk(widget, document, i, text=f"old {i}") for i in range(4)]
    kept = [make_chunk(widget, other, i) for i in range(2)]
    await index(store, [*old, *kept], [axis(i) for i in range(6)])
    # A killed run of an earlier attempt left a staged chunk past the new end.
    new = [make_chunk(widget, document, i, text=f"new {i}") for i in range(3)]
    await store.stage([*new, make_chunk(widget, document, 5)], [axis(i) for i in range(4)])

    assert await ids_found(store, widget, axis(0)) == {c.id for c in [*old, *kept]}

    await store.publish(widget, document, 3)

    hits = await store.search(widget, query(axis(0)), 10)
    mine = sorted((h.chunk.index, h.chunk.text) for h in hits if h.chunk.document_id == document)
    assert mine == [(0, "new 0"), (1, "new 1"), (2, "new 2")]
    assert await live_ids(store, widget, DIM, other) == {c.id for c in kept}


async def test_delete_document_removes_its_live_and_staged_chunks(store: VectorStore) -> None:
    widget, document, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    elsewhere = make_chunk(widget, other, 0)
    await index(store, [make_chunk(widget, document, 0), elsewhere], [axis(0), axis(1)])
    await store.stage([make_chunk(widget, document, 1)], [axis(2)])

    await store.delete_document(widget, document)
    await store.publish(widget, document, 5)  # a worker finishing after the delete

    assert await live_ids(store, widget, DIM) == {elsewhere.id}


async def test_delete_widget_removes_all_its_chunks(store: VectorStore) -> None:
    widget = uuid.uuid4()
    documents = [uuid.uuid4(), uuid.uuid4()]
    await index(
        store,
        [make_chunk(widget, documents[i % 2], i) for i in range(6)],
        [axis(i) for i in range(6)],
    )

    await store.delete_widget(widget)

    for mode in RetrievalMode:
        assert await store.search(widget, query(axis(0), mode), 5) == []


async def test_delete_widget_removes_its_staged_chunks_too(store: VectorStore) -> None:
    widget, document = uuid.uuid4(), uuid.uuid4()
    await store.stage(
        [make_chunk(widget, document, i) for i in range(3)], [axis(i) for i in range(3)]
    )

    await store.delete_widget(widget)
    await store.publish(widget, document, 3)  # a worker finishing after the delete

    assert await live_ids(store, widget, DIM) == set()


async def test_a_dense_search_reaches_every_live_chunk_of_the_widget(store: VectorStore) -> None:
    # What testkit's live_chunks counts on, in every store.
    widget, first, second = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    chunks = [make_chunk(widget, first, i) for i in range(3)]
    chunks += [make_chunk(widget, second, i) for i in range(4)]
    await index(store, chunks, [axis(i) for i in range(7)])
    await index(store, [make_chunk(uuid.uuid4(), first, 0)], [axis(0)])  # another widget's

    found = await store.search(widget, query([-1.0, -1.0, -1.0, -1.0]), 100)

    assert sorted(hit.chunk.id for hit in found) == sorted(c.id for c in chunks)
    assert await live_ids(store, widget, DIM, first) == {c.id for c in chunks[:3]}
    assert await live_ids(store, widget, DIM, uuid.uuid4()) == set()
    assert await live_ids(store, uuid.uuid4(), DIM) == set()


async def test_search_respects_the_limit(store: VectorStore) -> None:
    widget, document = uuid.uuid4(), uuid.uuid4()
    await index(
        store, [make_chunk(widget, document, i) for i in range(7)], [axis(i) for i in range(7)]
    )

    assert len(await store.search(widget, query(axis(0)), 3)) == 3
    assert len(await store.search(widget, query(axis(0)), 20)) == 7


async def test_hybrid_is_the_default_and_finds_what_either_signal_finds(store: VectorStore) -> None:
    widget, document = uuid.uuid4(), uuid.uuid4()
    close = make_chunk(widget, document, 0, text="how to descale the kettle")
    coded = make_chunk(widget, document, 1, text="error XJ4410 means the filter is blocked")
    others = [make_chunk(widget, document, i, text=f"unrelated note {i}") for i in range(2, 6)]
    # The others are nearer the question than the coded chunk: dense alone ranks it last.
    vectors = [axis(0), axis(2), *[[0.2, 1.0, 0.0, 0.0]] * len(others)]
    await index(store, [close, coded, *others], vectors)
    question = SearchQuery(text="what is error XJ4410", vector=axis(0))

    hits = await store.search(widget, question, 2)

    assert question.mode is RetrievalMode.HYBRID
    assert {hit.chunk.id for hit in hits} == {close.id, coded.id}
    dense = await store.search(widget, query(axis(0), RetrievalMode.DENSE), 6)
    assert dense[0].chunk.id == close.id and dense[-1].chunk.id == coded.id


async def test_sparse_matches_exact_terms_of_the_text_title_and_section(
    store: VectorStore,
) -> None:
    widget, document = uuid.uuid4(), uuid.uuid4()
    chunks = [
        make_chunk(widget, document, 0, text="the warranty covers the housing"),
        msgspec.structs.replace(make_chunk(widget, document, 1), title="Zephyr kettle"),
        msgspec.structs.replace(make_chunk(widget, document, 2), section="Descaling"),
    ]
    await index(store, chunks, [axis(3)] * 3)

    for words, expected in (("warranty", 0), ("zephyr", 1), ("descaling", 2)):
        hits = await store.search(
            widget,
            SearchQuery(text=f"what about {words}?", vector=axis(0), mode=RetrievalMode.SPARSE),
            3,
        )
        assert [hit.chunk.index for hit in hits] == [expected]
        assert hits[0].score > 0


async def test_a_widgets_ranking_does_not_move_when_another_tenant_uploads(
    store: VectorStore,
) -> None:
    # BM25 weighs a word by how rare it is among the widget's own chunks: were it counted
    # over every tenant's, the other widget's kettles would make "kettle" cheap here.
    widget, other = uuid.uuid4(), uuid.uuid4()
    document = uuid.uuid4()
    chunks = [
        make_chunk(widget, document, 0, text="kettle kettle kettle base"),
        make_chunk(widget, document, 1, text="warranty card"),
    ]
    await index(store, chunks, [axis(3)] * 2)
    asked = SearchQuery(text="kettle warranty", vector=axis(0), mode=RetrievalMode.SPARSE)

    before = [hit.chunk.index for hit in await store.search(widget, asked, 2)]
    kettles = [make_chunk(other, uuid.uuid4(), i, text="kettle") for i in range(30)]
    await index(store, kettles, [axis(3)] * 30)
    after = [hit.chunk.index for hit in await store.search(widget, asked, 2)]

    assert before == after == [0, 1]


async def test_every_mode_reports_the_dense_cosine_as_similarity(store: VectorStore) -> None:
    widget, document = uuid.uuid4(), uuid.uuid4()
    vectors = [[1.0, 0, 0, 0], [1.0, 1.0, 0, 0], [0, 0, 2.0, 0], [-1.0, 0.5, 0, 0]]
    chunks = [make_chunk(widget, document, i, text=f"kettle part {i}") for i in range(4)]
    await index(store, chunks, vectors)
    expected = {c.id: cosine([1.0, 0.2, 0, 0], v) for c, v in zip(chunks, vectors, strict=True)}

    for mode in RetrievalMode:
        hits = await store.search(widget, SearchQuery("kettle", [1.0, 0.2, 0, 0], mode), 4)
        assert len(hits) == 4
        for hit in hits:
            assert hit.similarity == pytest.approx(expected[hit.chunk.id], abs=1e-5)


async def test_hybrid_ties_are_ordered_by_chunk_id_at_every_limit(store: VectorStore) -> None:
    widget, document = uuid.uuid4(), uuid.uuid4()
    twins = [make_chunk(widget, document, 0, text="same words") for _ in range(6)]
    twins = [msgspec.structs.replace(twin, section=None, page=None) for twin in twins]
    await index(store, twins, [axis(0)] * len(twins))
    by_id = sorted(twin.id for twin in twins)

    for mode in RetrievalMode:
        for limit in (1, 2, 5, 6):
            hits = await store.search(widget, SearchQuery("same words", axis(0), mode), limit)
            assert [hit.chunk.id for hit in hits] == by_id[:limit]


async def test_each_hit_says_what_share_of_the_questions_own_words_it_holds(
    store: VectorStore,
) -> None:
    widget, document = uuid.uuid4(), uuid.uuid4()
    delivery = make_chunk(
        widget, document, 0, text="Express takes a day. We ship to the EU, Norway and Switzerland."
    )
    care = make_chunk(widget, document, 1, text="Descale the kettle every month.")
    await index(store, [delivery, care], [axis(0), axis(1)])

    def asked(text: str, context: str = "") -> SearchQuery:
        return SearchQuery(text, axis(2), context=context, context_weight=0.8 if context else 0.0)

    async def coverage(question: SearchQuery) -> dict[UUID, float | None]:
        return {h.chunk.id: h.coverage for h in await store.search(widget, question, 5)}

    assert await coverage(asked("Do you ship to Switzerland?")) == {delivery.id: 1.0, care.id: 0.0}
    assert (await coverage(asked("Do you ship to Japan?")))[delivery.id] == pytest.approx(0.5)
    # A follow-up's context helps find chunks but is not what the visitor asked.
    assert (await coverage(asked("Do you ship to Japan?", "How do I descale the kettle?")))[
        care.id
    ] == 0.0
    # One word vouches for no topic.
    assert set((await coverage(asked("Switzerland?"))).values()) == {None}
    dense = await store.search(
        widget, SearchQuery("ship to Norway", axis(0), RetrievalMode.DENSE), 1
    )
    assert [h.coverage for h in dense] == [1.0]


async def test_a_question_of_stop_words_only(store: VectorStore) -> None:
    widget, document = uuid.uuid4(), uuid.uuid4()
    await index(store, [make_chunk(widget, document, 0, text="kettle")], [axis(0)])

    sparse = await store.search(
        widget, SearchQuery("what is it?", axis(0), RetrievalMode.SPARSE), 5
    )
    hybrid = await store.search(widget, SearchQuery("what is it?", axis(0)), 5)

    assert sparse == []
    assert [hit.similarity for hit in hybrid] == [pytest.approx(1.0)]


async def test_unused_words_are_those_no_live_chunk_of_the_widget_holds(
    store: VectorStore,
) -> None:
    widget, other, document = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    kestrel = make_chunk(widget, document, 0, text="Descale the Kestrel often")
    await index(store, [kestrel], [axis(0)])
    # Said only by another widget's chunk, and by a chunk staged but not yet published.
    await index(store, [make_chunk(other, uuid.uuid4(), 0, text="Patroni")], [axis(1)])
    await store.stage([make_chunk(widget, uuid.uuid4(), 0, text="Django")], [axis(2)])

    asked = ["Kestrel", "descaled", "handbook", "Patroni", "Django", "the"]
    # "descaled" is held as "Descale" is (search's stemming); "handbook" by the chunk's
    # title; "the" is a stop word, never unused.
    assert await store.unused_words(widget, asked) == ["Patroni", "Django"]
    assert await store.unused_words(widget, []) == []


async def test_a_chunk_scores_the_same_in_every_store(tmp_path: Path) -> None:
    stores: list[MemoryVectorStore | EdgeVectorStore | QdrantVectorStore] = [
        MemoryVectorStore(DIM),
        EdgeVectorStore(tmp_path, DIM),
        await open_qdrant_local(),
    ]
    rng = random.Random(7)
    words = "kettle water warranty years code error descale boil blue price euro lid".split()  # noqa: SIM905
    widget, document = uuid.uuid4(), uuid.uuid4()
    # More chunks than a candidate list holds, so hybrid search takes its feedback step too.
    chunks = [
        make_chunk(widget, document, i, text=" ".join(rng.choices(words, k=8)))
        for i in range(Tuning().depth * 2)
    ]
    vectors = [[rng.uniform(-1, 1) for _ in range(DIM)] for _ in chunks]
    try:
        for store in stores:
            await index(store, chunks, vectors)
        for mode in RetrievalMode:
            question = SearchQuery("kettle warranty price", [1.0, 0.5, 0.0, -0.2], mode)
            results = [await store.search(widget, question, 8) for store in stores]
            first = [(h.chunk.id, h.score, h.similarity) for h in results[0]]
            for other in results[1:]:
                assert [h.chunk.id for h in other] == [hit_id for hit_id, _, _ in first]
                assert [h.score for h in other] == pytest.approx([s for _, s, _ in first], rel=1e-5)
                assert [h.similarity for h in other] == pytest.approx(
                    [s for _, _, s in first], abs=1e-5
                )
    finally:
        for store in stores:
            await store.close()


@pytest.mark.parametrize("complete", [True, False])
async def test_a_candidate_found_by_one_search_is_scored_by_the_other(
    tmp_path: Path, complete: bool
) -> None:
    # Lists two deep: the dense one holds "alpha" and "beta", BM25's the two kettle chunks.
    # The best kettle chunk is third by cosine; scored by it, it beats the dense best.
    tuning = Tuning(depth=2, feedback=False, complete=complete)
    stores: list[MemoryVectorStore | EdgeVectorStore | QdrantVectorStore] = [
        MemoryVectorStore(DIM, tuning),
        EdgeVectorStore(tmp_path, DIM, tuning),
        await open_qdrant_local(tuning=tuning),
    ]
    widget, document = uuid.uuid4(), uuid.uuid4()
    texts_and_cosines = [
        ("alpha", 1.0),
        ("beta", 0.9),
        ("kettle descale kettle", 0.85),
        ("kettle", -0.5),
    ]
    chunks = [make_chunk(widget, document, i, text=t) for i, (t, _) in enumerate(texts_and_cosines)]
    vectors = [[c, math.sqrt(1.0 - c * c), 0.0, 0.0] for _, c in texts_and_cosines]
    try:
        for store in stores:
            await index(store, chunks, vectors)
            [best] = await store.search(widget, SearchQuery("kettle descale", axis(0)), 1)
            if complete:
                assert best.chunk.text == "kettle descale kettle"
                assert best.score == pytest.approx(0.7 * 0.85 + 0.3, abs=1e-5)
            else:  # its cosine counts 0: the dense list's best wins
                assert best.chunk.text == "alpha"
            assert best.similarity == pytest.approx(
                texts_and_cosines[chunks.index(best.chunk)][1], abs=1e-5
            )
    finally:
        for store in stores:
            await store.close()


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def test_fusion_weights_must_be_a_share() -> None:
    with pytest.raises(ValueError, match="dense_weight"):
        Tuning(dense_weight=1.5)
    with pytest.raises(ValueError, match="depth"):
        Tuning(depth=0)


async def test_malformed_calls_are_rejected(store: VectorStore) -> None:
    widget, document = uuid.uuid4(), uuid.uuid4()
    with pytest.raises(ValueError, match="2 chunks but 1 vectors"):
        await store.stage(
            [make_chunk(widget, document), make_chunk(widget, document, 1)], [axis(0)]
        )
    with pytest.raises(ValueError, match="dimensional"):
        await store.stage([make_chunk(widget, document)], [[1.0, 0.0]])
    with pytest.raises(ValueError, match="dimensional"):
        await store.search(widget, query([1.0, 0.0]), 5)
    with pytest.raises(ValueError, match="limit"):
        await store.search(widget, query(axis(0)), 0)

    await store.publish(widget, document, 2)  # whatever was staged would now show
    assert await live_ids(store, widget, DIM) == set()


async def test_staging_nothing_changes_nothing_and_ping_answers(store: VectorStore) -> None:
    widget, document = uuid.uuid4(), uuid.uuid4()
    chunks = [make_chunk(widget, document, i) for i in range(2)]
    await store.stage(chunks, [axis(0), axis(1)])

    await store.stage([], [])
    await store.ping()
    await store.publish(widget, document, 2)

    assert await live_ids(store, widget, DIM) == {c.id for c in chunks}


async def test_concurrent_calls_are_all_served(store: VectorStore) -> None:
    widget, document = uuid.uuid4(), uuid.uuid4()
    chunks = [make_chunk(widget, document, i) for i in range(20)]

    await asyncio.gather(
        *(store.stage([chunk], [axis(chunk.index)]) for chunk in chunks),
        *(store.search(widget, query(axis(i)), 3) for i in range(20)),
    )
    await store.publish(widget, document, 20)

    assert await live_ids(store, widget, DIM) == {c.id for c in chunks}


# Qdrant Edge: one shard directory, opened once at a time, persisted across opens.


async def test_edge_data_survives_a_reopen(tmp_path: Path) -> None:
    widget, document = uuid.uuid4(), uuid.uuid4()
    chunks = [make_chunk(widget, document, i) for i in range(3)]
    store = EdgeVectorStore(tmp_path, DIM)
    await index(store, chunks, [axis(i) for i in range(3)])
    await store.close()

    reopened = EdgeVectorStore(tmp_path, DIM)
    try:
        hits = await reopened.search(widget, query(axis(2)), 1)
        assert await live_ids(reopened, widget, DIM) == {c.id for c in chunks}
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


async def test_edge_refuses_a_shard_made_before_hybrid_retrieval(tmp_path: Path) -> None:
    config = EdgeConfig(vectors={"dense": EdgeVectorParams(size=DIM, distance=Distance.Cosine)})
    EdgeShard.create(str(tmp_path), config).close()

    with pytest.raises(VectorStoreUnavailableError, match="predates hybrid retrieval"):
        EdgeVectorStore(tmp_path, DIM)


async def test_edge_a_closed_store_is_unavailable(tmp_path: Path) -> None:
    store = EdgeVectorStore(tmp_path, DIM)
    await store.close()
    await store.close()

    with pytest.raises(VectorStoreUnavailableError, match="closed"):
        await store.ping()
    with pytest.raises(VectorStoreUnavailableError):
        await store.search(uuid.uuid4(), query(axis(0)), 1)


# qdrant-client: the collection is prepared idempotently; failures become domain errors.


async def test_qdrant_ensure_collection_is_idempotent() -> None:
    store = await open_qdrant_local()
    try:
        widget, document = uuid.uuid4(), uuid.uuid4()
        chunk = make_chunk(widget, document)
        await index(store, [chunk], [axis(0)])
        await store.ensure_collection()
        assert await live_ids(store, widget, DIM) == {chunk.id}
    finally:
        await store.close()


async def test_qdrant_refuses_a_collection_of_another_dimension() -> None:
    client = AsyncQdrantClient(location=":memory:")
    await QdrantVectorStore(client, "chunks", DIM).ensure_collection()

    with pytest.raises(ValueError, match="dimensional"):
        await QdrantVectorStore(client, "chunks", DIM + 1).ensure_collection()
    await client.close()


async def test_qdrant_refuses_a_collection_made_before_hybrid_retrieval() -> None:
    client = AsyncQdrantClient(location=":memory:")
    await client.create_collection(
        "chunks", vectors_config={"dense": VectorParams(size=DIM, distance=QdrantDistance.COSINE)}
    )

    with pytest.raises(ValueError, match="predates hybrid retrieval"):
        await QdrantVectorStore(client, "chunks", DIM).ensure_collection()
    await client.close()


async def assert_unavailable(store: QdrantVectorStore) -> None:
    widget, document = uuid.uuid4(), uuid.uuid4()
    calls: list[Callable[[], Awaitable[object]]] = [
        store.ensure_collection,
        store.ping,
        lambda: store.stage([make_chunk(widget, document)], [axis(0)]),
        lambda: store.publish(widget, document, 1),
        lambda: store.search(widget, query(axis(0)), 5),
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


# The fusion and feedback steps every store shares.


def test_point_ids_as_text_order_as_their_uuids() -> None:
    # Rankings break ties by the id's text: the same order as the UUIDs', in every store.
    ids = [uuid.UUID(int=random.getrandbits(128)) for _ in range(2000)]
    ids += [uuid.UUID(int=n) for n in (0, 1, 15, 16, 2**64, 2**128 - 1)]

    assert sorted(str(i) for i in ids) == [str(i) for i in sorted(ids)]


def test_fusion_is_a_convex_combination_with_bm25_scaled_by_its_best() -> None:
    a, b, c = sorted(str(uuid.uuid4()) for _ in range(3))

    fused = fuse([c, b, a], {a: 0.5, b: 0.8}, {a: 6.0, c: 3.0}, dense_weight=0.7)

    assert [hit.id for hit in fused] == [a, b, c]
    assert [hit.score for hit in fused] == pytest.approx([0.35 + 0.3, 0.56, 0.15])
    assert [h.id for h in fuse([c, b, a], {a: 0.5, b: 0.5, c: 0.5}, {}, 0.7)] == [a, b, c]


def test_feedback_adds_the_strongest_unasked_terms() -> None:
    asked = Sparse((1, 2), (1.0, 1.0))
    feedback = [Sparse((1, 5, 6, 7), (3.0, 2.0, 1.0, 0.5)), Sparse((5, 7), (2.0, 0.5))]

    expanded = expand(asked, feedback, terms=2, weight=0.3)

    # 5 weighs 4, then 6 and 7 tie at 1: the smaller id wins.
    assert expanded.indices == (1, 2, 5, 6)
    assert expanded.values == pytest.approx((1.0, 1.0, 0.3, 0.3 * 1.0 / 4.0))
    assert expand(asked, [], terms=2, weight=0.3) == asked


def test_feedback_moves_the_question_towards_the_best_chunks() -> None:
    moved = rocchio([2.0, 0.0, 0.0, 0.0], [[0.0, 3.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]], 1.0)

    assert moved == pytest.approx([x / math.sqrt(1.5) for x in (1.0, 0.5, 0.5, 0.0)])
    assert rocchio([1.0, 0.0], [], 1.0) == [1.0, 0.0]
