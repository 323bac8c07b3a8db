"""The service with the embedding model taken out of the chat path, to time our own code.

`granian --interface asgi --factory --working-dir bench stub_app:create`, with the
service's settings in the environment and BENCH_QUESTIONS naming a JSON list of the
questions the benchmark will ask: their vectors are computed once, at startup, by the real
model, and each chat then gets its vector from a dict. With the extractive answerer (no
LLM) a chat's latency is then our own code plus HTTP.

GET /bench/timings returns, and clears, for each POST /api/widget/chat since the last
call: [ns inside the ASGI app, ns of those inside the chat model's stream()]. The first
is the chat without the HTTP server and the network; the second is the extractive
answerer, which stands where an LLM call would be.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from collections.abc import AsyncIterator, Sequence
from contextvars import ContextVar
from pathlib import Path

from dishka import Provider, Scope, decorate, provide
from litestar import Litestar
from litestar.types import ASGIApp, Receive, Send
from litestar.types import Scope as AsgiScope

from adapters.embeddings.onnx import OnnxEmbedder
from application.ports.models import ChatModel, ChatModelRouter, Embedder
from domain.models import Usage, Widget
from domain.prompts import Prompt
from entrypoints.heap import freeze_startup_heap
from entrypoints.http.app import create_app
from entrypoints.settings import load_settings

SERIAL = re.compile(r" \(#\d+\)$")
TIMED_PATH = "/api/widget/chat"
TIMINGS_PATH = "/bench/timings"
# The chat model's time in the current request, added up by TimedModel.
_MODEL_NS: ContextVar[list[int] | None] = ContextVar("model_ns", default=None)


class CachedEmbedder:
    """The real model behind a dict of vectors computed in advance."""

    def __init__(self, model: OnnxEmbedder) -> None:
        self._model = model
        self._vectors: dict[str, list[float]] = {}
        self.misses = 0

    @property
    def model(self) -> str:
        return self._model.model

    @property
    def dimension(self) -> int:
        return self._model.dimension

    async def warm(self, texts: Sequence[str]) -> None:
        vectors = await self._model.embed(texts)
        self._vectors.update(zip(texts, vectors, strict=True))

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        # The bench makes every text unique with a serial number; its vector is the base's.
        bases = [SERIAL.sub("", text) for text in texts]
        if all(base in self._vectors for base in bases):
            return [self._vectors[base] for base in bases]
        self.misses += 1
        return await self._model.embed(texts)


class TimedModel:
    def __init__(self, model: ChatModel) -> None:
        self._model = model

    @property
    def name(self) -> str:
        return self._model.name

    async def stream(self, prompt: Prompt) -> AsyncIterator[str | Usage]:
        spent = _MODEL_NS.get() or [0]
        items = aiter(self._model.stream(prompt))
        while True:
            start = time.perf_counter_ns()
            try:
                item = await anext(items)
            except StopAsyncIteration:
                return
            finally:
                spent[0] += time.perf_counter_ns() - start
            yield item


class TimedRouter:
    def __init__(self, router: ChatModelRouter) -> None:
        self._router = router

    def models_for(self, widget: Widget) -> Sequence[ChatModel]:
        return [TimedModel(model) for model in self._router.models_for(widget)]

    def offline(self) -> ChatModel:
        return TimedModel(self._router.offline())


class BenchProvider(Provider):
    scope = Scope.APP

    def __init__(self, questions_file: Path) -> None:
        super().__init__()
        self._questions_file = questions_file

    @provide(override=True)
    async def embedder(self) -> AsyncIterator[Embedder]:
        model = await asyncio.to_thread(OnnxEmbedder)
        cached = CachedEmbedder(model)
        questions = json.loads(await asyncio.to_thread(self._questions_file.read_text))
        await cached.warm(questions)
        yield cached
        print(f"stub_embedder misses={cached.misses}", flush=True)
        model.close()

    @decorate
    def timed_router(self, router: ChatModelRouter) -> ChatModelRouter:
        return TimedRouter(router)


class ChatTimer:
    """Times the chat route inside the app, and hands the samples out on request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.samples: list[tuple[int, int]] = []

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        path = scope.get("path")
        if scope["type"] == "http" and path == TIMINGS_PATH:
            body = json.dumps(self.samples).encode()
            self.samples = []
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        if scope["type"] != "http" or path != TIMED_PATH:
            await self.app(scope, receive, send)
            return
        model_ns = [0]
        token = _MODEL_NS.set(model_ns)
        start = time.perf_counter_ns()
        try:
            await self.app(scope, receive, send)
        finally:
            self.samples.append((time.perf_counter_ns() - start, model_ns[0]))
            _MODEL_NS.reset(token)


def create() -> Litestar:
    questions_file = Path(os.environ["BENCH_QUESTIONS"])
    app = create_app(load_settings(), BenchProvider(questions_file))
    app.on_startup.append(freeze_startup_heap)  # as `chatconnect serve` does
    app.asgi_handler = ChatTimer(app.asgi_handler)
    return app
