"""OpenAI embeddings (or any server speaking its API), batched, with bounded retries.

Vectors are asked for as base64 (little-endian float32) and decoded with numpy: 1,536
floats as JSON, parsed by the SDK into pydantic models, cost ~7 ms of CPU a question,
base64 ~0.3 ms (docs/benchmarks.md, scale). A server that answers floats anyway (some
OpenAI-compatible ones ignore `encoding_format`) is read as it answers."""

from __future__ import annotations

import base64
from collections.abc import Sequence

import httpx2
import msgspec
import numpy as np
import openai

from adapters.embeddings.coalescing import Coalescer
from adapters.providers.errors import ProviderError, from_sdk
from adapters.providers.retries import Resilience, retrying_for
from application.ports.telemetry import Telemetry
from domain.errors import EmbedderUnavailableError

PROVIDER = "openai"
DEFAULT_MODEL = "text-embedding-3-small"
# Known sizes spare a request at start; any other model is asked once.
DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
# The API takes up to 2,048 inputs per request; smaller batches keep each one quick.
BATCH_SIZE = 256


class _Embedding(msgspec.Struct):
    embedding: list[float] | str
    index: int = 0


class _Embeddings(msgspec.Struct):
    data: list[_Embedding]


_decode = msgspec.json.Decoder(_Embeddings).decode


def vectors_in(body: bytes) -> list[list[float]]:
    """The vectors of an embeddings response, in the order of its inputs."""
    data = sorted(_decode(body).data, key=lambda e: e.index)
    return [vector_of(item.embedding) for item in data]


def vector_of(embedding: list[float] | str) -> list[float]:
    if isinstance(embedding, str):
        # A body cut mid-vector is a ValueError here, like JSON that does not parse.
        floats: list[float] = np.frombuffer(base64.b64decode(embedding), dtype="<f4").tolist()
        return floats
    return embedding


class OpenAIEmbedder:
    def __init__(
        self,
        client: openai.AsyncOpenAI,
        model: str = DEFAULT_MODEL,
        *,
        telemetry: Telemetry,
        dimension: int | None = None,
        resilience: Resilience | None = None,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self._client = client
        self._telemetry = telemetry
        self._name = model
        self._dimension = dimension or DIMENSIONS.get(model)
        self._resilience = resilience or Resilience()
        self._batch_size = batch_size
        # One-text calls (a visitor's question) share requests when they come together.
        self._questions = Coalescer(self._batch, max_batch=batch_size)

    async def ready(self) -> OpenAIEmbedder:
        """Learns the dimension of a model we do not know by embedding one text."""
        if self._dimension is None:
            [vector] = await self._batch(["dimension"])
            self._dimension = len(vector)
        return self

    @property
    def model(self) -> str:
        # Prefixed, so its collection never meets another provider's model of the same name.
        return f"{PROVIDER}:{self._name}"

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            raise RuntimeError("call ready() first: the model's dimension is not known yet")
        return self._dimension

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        if len(texts) == 1:
            vectors.append(await self._questions.one(texts[0]))
        for start in range(0, len(texts) if len(texts) > 1 else 0, self._batch_size):
            vectors += await self._batch(texts[start : start + self._batch_size])
        if any(len(v) != self.dimension for v in vectors):
            raise EmbedderUnavailableError(f"{self.model} returned vectors of another size")
        return vectors

    async def _batch(self, texts: Sequence[str]) -> list[list[float]]:
        # The API refuses empty strings; a space embeds as "nothing" just as well.
        inputs = [text if text.strip() else " " for text in texts]
        try:
            async for trial in retrying_for(
                self._resilience, f"{PROVIDER} embeddings", self._telemetry
            ):
                with trial:
                    try:
                        response = await self._client.post(
                            "/embeddings",
                            body={
                                "model": self._name,
                                "input": inputs,
                                "encoding_format": "base64",
                            },
                            options={"security": {"bearer_auth": True}},
                            cast_to=httpx2.Response,
                        )
                        vectors = vectors_in(response.content)
                    except Exception as error:
                        raise from_sdk(error, PROVIDER, openai) from error
        except ProviderError as error:
            raise EmbedderUnavailableError(f"{self.model}: {error.message}") from error
        return vectors

    async def close(self) -> None:
        await self._client.close()
