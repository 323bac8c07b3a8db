"""The floor under the TTFT benchmark: an app that only relays a provider's first token.

`granian --interface asgi --working-dir bench bare_relay:app` with OPENAI_BASE_URL set.
For each POST of the chat stream's path it sends one chat completion through the OpenAI
SDK (retries off, the same call as ours), with a system message the size of a prompt with
five sources, and streams each delta back as an SSE `token` event: no auth, no limits, no
history, no retrieval, no bookkeeping. What it adds to the provider's first token is what
the SDK, the HTTP server and the network cost on this machine; what the service adds beyond
it is ours. The chat JSON path answers the same way, the deltas joined.

With `BARE_RAG=N`, each question first takes the steps a retrieval-augmented chat cannot
skip, as thinly as they can be taken: its embedding through the SDK (as
adapters/embeddings/openai.py sends it) and a dense-only top-5 search in Qdrant Edge over
N chunks of the stand-in's dimension (random unit vectors); the prompt is the same. That
is the floor of the service's whole job on this stack: what a chat costs beyond it is the
hybrid plan, the limits, the history and the bookkeeping.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx2
import msgspec
import numpy as np
import openai
from litestar import Litestar, get, post
from litestar.response import Stream

from adapters.embeddings.openai import vectors_in
from adapters.llm.openai import send_chat
from adapters.llm.openai_stream import chunks
from adapters.vectorstore.edge import EdgeVectorStore
from application.ports.vectors import RetrievalMode, SearchQuery
from domain.models import Chunk

# About five retrieved chunks of ~200 tokens each, as the service's prompts carry.
SOURCES = "\n\n".join(f"[{n}] Manual\n" + "The valve is reset by hand. " * 30 for n in range(5))
_encode = msgspec.json.Encoder().encode

# On the SDK's aiohttp transport, as the service's client (adapters/llm/catalog.py).
client = openai.AsyncOpenAI(
    api_key=os.environ.get("OPENAI_API_KEY", "sk-bench"),
    base_url=os.environ["OPENAI_BASE_URL"],
    max_retries=0,
    http_client=openai.DefaultAioHttpClient(),
)


RAG_CHUNKS = int(os.environ.get("BARE_RAG", "0"))
# The stand-in's embedding size (text-embedding-3-small's).
DIMENSION = 1536
WIDGET = UUID(int=1)


class _Index:
    """N chunks of one widget in a Qdrant Edge shard of its own, searched by the dense
    vector alone (the one search a retrieval-augmented answer cannot do without)."""

    def __init__(self, count: int) -> None:
        self._path = Path(tempfile.mkdtemp(prefix="bare-rag-"))
        self.store = EdgeVectorStore(self._path, DIMENSION)
        self._count = count

    async def fill(self) -> None:
        vectors = np.random.default_rng(0).standard_normal((self._count, DIMENSION))
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        document = uuid4()
        text = "The valve is reset by hand. " * 30
        batch = [
            Chunk(id=uuid4(), widget_id=WIDGET, document_id=document, index=n, text=text, title="M")
            for n in range(self._count)
        ]
        await self.store.stage(batch, vectors.tolist())
        await self.store.publish(WIDGET, document, self._count)

    async def close(self) -> None:
        await self.store.close()
        shutil.rmtree(self._path, ignore_errors=True)

    async def sources(self, question: str) -> str:
        response = await client.post(
            "/embeddings",
            body={
                "model": "text-embedding-3-small",
                "input": [question],
                "encoding_format": "base64",
            },
            options={"security": {"bearer_auth": True}},
            cast_to=httpx2.Response,
        )
        [vector] = vectors_in(response.content)
        query = SearchQuery(text=question, vector=vector, mode=RetrievalMode.DENSE)
        hits = await self.store.search(WIDGET, query, 5)
        return "\n\n".join(f"[{n}] {h.chunk.title}\n{h.chunk.text}" for n, h in enumerate(hits, 1))


index = _Index(RAG_CHUNKS) if RAG_CHUNKS else None


async def _deltas(question: str) -> AsyncIterator[str]:
    # The SDK call the service makes (adapters/llm/openai.py), and nothing else of ours.
    sources = await index.sources(question) if index is not None else SOURCES
    messages = [{"role": "system", "content": sources}, {"role": "user", "content": question}]
    response = await send_chat(client, "gpt-4o-mini", messages, 1024)
    try:
        async for chunk in chunks(response.aiter_bytes()):
            for choice in chunk.choices:
                text = choice.delta.content if choice.delta is not None else None
                if text:
                    yield text
    finally:
        await response.aclose()


async def _tokens(question: str) -> AsyncIterator[bytes]:
    async for text in _deltas(question):
        yield b"event: token\ndata: " + _encode({"text": text}) + b"\n\n"


@post("/api/widget/chat/stream", status_code=200, media_type="text/event-stream")
async def relay(data: dict[str, Any]) -> Stream:
    return Stream(_tokens(str(data["message"])), media_type="text/event-stream")


@post("/api/widget/chat", status_code=200)
async def answer(data: dict[str, Any]) -> dict[str, str]:
    return {"answer": "".join([text async for text in _deltas(str(data["message"]))])}


@get("/health/ready")
async def ready() -> dict[str, str]:
    return {"status": "ok"}


@get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


async def _fill() -> None:
    if index is not None:
        await index.fill()


async def _close() -> None:
    if index is not None:
        await index.close()


app = Litestar([relay, answer, ready, health], on_startup=[_fill], on_shutdown=[_close])
