"""The OpenAI embedder through the real SDK against the local stand-in: batched, sized by
its model, and failing as the core expects."""

from __future__ import annotations

import asyncio
import base64
import struct
from collections.abc import AsyncIterator

import openai
import pytest

from adapters.embeddings.openai import OpenAIEmbedder, vector_of
from domain.errors import EmbedderUnavailableError
from entrypoints.wiring.vectors import collection_name
from testkit.fakes.telemetry import RecordingTelemetry
from testkit.llm_stubs import Reply, StubServer, embedding_of
from tests.support.llm import FAST


@pytest.fixture
async def client(stub: StubServer) -> AsyncIterator[openai.AsyncOpenAI]:
    stub.reset()
    client = openai.AsyncOpenAI(api_key="sk-test", base_url=stub.url + "/v1", max_retries=0)
    yield client
    await client.close()


async def test_texts_are_embedded_in_batches_in_order(
    client: openai.AsyncOpenAI, stub: StubServer
) -> None:
    embedder = await OpenAIEmbedder(
        client, telemetry=RecordingTelemetry(), batch_size=2, resilience=FAST
    ).ready()
    texts = ["kettle", "toaster", "", "refund", "warranty"]

    vectors = await embedder.embed(texts)

    assert [len(v) for v in vectors] == [1536] * 5
    assert vectors[0] == pytest.approx(embedding_of("kettle", 1536))
    assert vectors[4] == pytest.approx(embedding_of("warranty", 1536))
    assert [len(s.body["input"]) for s in stub.requests] == [2, 2, 1]
    assert stub.requests[0].body["model"] == "text-embedding-3-small"
    assert all(text != "" for s in stub.requests for text in s.body["input"])  # API refuses ""


async def test_a_known_model_needs_no_request_to_know_its_dimension(
    client: openai.AsyncOpenAI, stub: StubServer
) -> None:
    embedder = await OpenAIEmbedder(
        client, "text-embedding-3-large", telemetry=RecordingTelemetry()
    ).ready()
    assert embedder.dimension == 3072
    assert stub.requests == []


async def test_an_unknown_model_is_asked_its_dimension_once(
    client: openai.AsyncOpenAI, stub: StubServer
) -> None:
    embedder = await OpenAIEmbedder(
        client, "nomic-embed-text", telemetry=RecordingTelemetry()
    ).ready()
    assert embedder.dimension == 1536
    assert len(stub.requests) == 1


def test_each_embedding_model_gets_its_own_collection() -> None:
    names = {
        collection_name(f"openai:{m}") for m in ("text-embedding-3-small", "text-embedding-3-large")
    }
    assert len(names | {collection_name("all-MiniLM-L6-v2")}) == 3


async def test_a_transient_failure_is_retried(client: openai.AsyncOpenAI, stub: StubServer) -> None:
    embedder = await OpenAIEmbedder(client, telemetry=RecordingTelemetry(), resilience=FAST).ready()
    stub.script(Reply(status=503))

    [vector] = await embedder.embed(["kettle"])

    assert len(vector) == 1536
    assert len(stub.requests) == 2


async def test_a_lasting_failure_is_an_embedder_error(
    client: openai.AsyncOpenAI, stub: StubServer
) -> None:
    embedder = await OpenAIEmbedder(client, telemetry=RecordingTelemetry(), resilience=FAST).ready()
    stub.reset(default=Reply(status=500))

    with pytest.raises(EmbedderUnavailableError, match="HTTP 500"):
        await embedder.embed(["kettle"])
    assert len(stub.requests) == FAST.attempts


async def test_vectors_of_the_wrong_size_are_refused(
    client: openai.AsyncOpenAI, stub: StubServer
) -> None:
    embedder = await OpenAIEmbedder(
        client, telemetry=RecordingTelemetry(), dimension=384, resilience=FAST
    ).ready()
    with pytest.raises(EmbedderUnavailableError, match="another size"):
        await embedder.embed(["kettle"])


async def test_vectors_travel_as_base64_and_arrive_as_the_same_floats(
    client: openai.AsyncOpenAI, stub: StubServer
) -> None:
    embedder = await OpenAIEmbedder(client, telemetry=RecordingTelemetry()).ready()

    [vector] = await embedder.embed(["kettle"])

    # float32 on the wire: the same vector to 1e-7, the precision the API itself has.
    assert vector == pytest.approx(embedding_of("kettle", 1536), abs=1e-7)
    assert [s.body["encoding_format"] for s in stub.requests] == ["base64"]


def test_a_server_that_answers_floats_anyway_is_read_as_it_answers() -> None:
    assert vector_of([0.5, -0.25]) == [0.5, -0.25]
    assert vector_of(base64.b64encode(struct.pack("<2f", 0.5, -0.25)).decode()) == [0.5, -0.25]


def test_a_vector_cut_short_is_a_malformed_response() -> None:
    with pytest.raises(ValueError):
        vector_of(base64.b64encode(b"\x00\x00\x80").decode())


async def test_questions_asked_together_share_requests(
    client: openai.AsyncOpenAI, stub: StubServer
) -> None:
    embedder = await OpenAIEmbedder(client, telemetry=RecordingTelemetry()).ready()
    questions = [f"question {n}" for n in range(40)]

    vectors = await asyncio.gather(*(embedder.embed([q]) for q in questions))

    assert [v[0] for v in vectors] == [
        pytest.approx(embedding_of(q, 1536), abs=1e-7) for q in questions
    ]
    assert len(stub.requests) <= 8  # at most 4 in flight, then the rest together
    assert sum(len(s.body["input"]) for s in stub.requests) == 40


async def test_a_failed_shared_request_fails_each_of_its_questions(
    client: openai.AsyncOpenAI, stub: StubServer
) -> None:
    embedder = await OpenAIEmbedder(client, telemetry=RecordingTelemetry(), resilience=FAST).ready()
    stub.default = Reply(status=400)

    outcomes = await asyncio.gather(
        *(embedder.embed([f"q{n}"]) for n in range(10)), return_exceptions=True
    )

    assert all(isinstance(o, EmbedderUnavailableError) for o in outcomes)
    stub.reset()
    assert len((await embedder.embed(["after"]))[0]) == 1536  # and it recovers
