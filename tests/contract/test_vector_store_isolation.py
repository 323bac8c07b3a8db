"""Tenant isolation as a property: whatever chunks widgets hold and whatever is asked, a
search returns only the asked widget's published chunks, in every retrieval mode and every
store."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.vectorstore.edge import EdgeVectorStore
from adapters.vectorstore.retrieval import Tuning
from application.ports.vectors import RetrievalMode, SearchQuery, VectorStore
from domain.models import Chunk
from testkit.fakes.vectorstore import MemoryVectorStore
from testkit.vectors import index
from tests.contract.test_vector_store import DIM, open_qdrant_local

pytestmark = pytest.mark.filterwarnings("ignore:Payload indexes have no effect:UserWarning")

# A small vocabulary, so widgets share words and BM25 has matches across tenants to leak.
WORDS = ("kettle", "warranty", "refund", "delivery", "filter", "error", "XJ4410", "the", "blue")
# A shallow candidate list, so hybrid search also takes its feedback step on small widgets.
TUNING = Tuning(depth=4)

texts = st.lists(st.sampled_from(WORDS), min_size=1, max_size=6).map(" ".join)
vectors = st.lists(
    st.integers(min_value=-3, max_value=3).map(float), min_size=DIM, max_size=DIM
).filter(any)
# Owner, text, vector, and whether its document is published (else it stays staged).
chunk_specs = st.lists(
    st.tuples(st.integers(min_value=0, max_value=3), texts, vectors, st.booleans()),
    min_size=1,
    max_size=25,
)
questions = st.tuples(
    st.integers(min_value=0, max_value=3),
    texts,
    vectors,
    st.sampled_from(RetrievalMode),
    st.integers(min_value=1, max_value=30),
)


@pytest.fixture(params=["memory", "edge", "qdrant-local"])
def runner_and_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[asyncio.Runner, VectorStore]]:
    # Hypothesis drives a synchronous test; one event loop serves every example.
    with asyncio.Runner() as runner:
        store: MemoryVectorStore | EdgeVectorStore | object
        if request.param == "memory":
            store = MemoryVectorStore(DIM, TUNING)
        elif request.param == "edge":
            store = EdgeVectorStore(tmp_path / "shard", DIM, TUNING)
        else:
            store = runner.run(open_qdrant_local(tuning=TUNING))
        yield runner, store  # type: ignore[misc]
        runner.run(store.close())  # type: ignore[attr-defined]


def test_no_search_ever_returns_another_widgets_chunk(
    runner_and_store: tuple[asyncio.Runner, VectorStore],
) -> None:
    runner, store = runner_and_store

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(specs=chunk_specs, asked=st.lists(questions, min_size=1, max_size=4))
    def property_holds(
        specs: list[tuple[int, str, list[float], bool]],
        asked: list[tuple[int, str, list[float], RetrievalMode, int]],
    ) -> None:
        # Fresh widget ids per example: earlier examples' chunks stay in the store as more
        # foreign tenants to leak from.
        widgets = [uuid.uuid4() for _ in range(4)]
        published, staged = uuid.uuid4(), uuid.uuid4()
        chunks = [
            Chunk(
                id=uuid.uuid4(),
                widget_id=widgets[owner],
                document_id=published if live else staged,
                index=n,
                text=text,
                title="Help",
            )
            for n, (owner, text, _, live) in enumerate(specs)
        ]
        kept = [(c, spec[2]) for c, spec in zip(chunks, specs, strict=True) if spec[3]]
        pending = [(c, spec[2]) for c, spec in zip(chunks, specs, strict=True) if not spec[3]]
        runner.run(index(store, [c for c, _ in kept], [v for _, v in kept]))
        runner.run(store.stage([c for c, _ in pending], [v for _, v in pending]))
        owned = {w: {c.id for c, _ in kept if c.widget_id == w} for w in widgets}

        for who, text, vector, mode, limit in asked:
            widget = widgets[who]
            hits = runner.run(store.search(widget, SearchQuery(text, vector, mode), limit))
            assert all(hit.chunk.widget_id == widget for hit in hits)
            assert {hit.chunk.id for hit in hits} <= owned[widget]
            assert len(hits) <= limit
            if mode is RetrievalMode.DENSE:  # every chunk has a cosine: none may be missing
                assert len(hits) == min(limit, len(owned[widget]))

    property_holds()
