"""Question vectors, cached by model and normalised text: the model is the slowest step of
a chat, and visitors ask the same things in many conversations."""

from __future__ import annotations

import hashlib
from array import array

from application.answer_cache import normalize
from application.best_effort import ReadThrough
from application.ports.caching import Cache
from application.ports.models import Embedder
from application.ports.telemetry import Telemetry

EMBEDDING_TTL_SECONDS = 24 * 3600.0


def _packed(vector: list[float]) -> bytes:
    return array("f", vector).tobytes()  # float32, as the model computes: 1.5 KB at 384


def _unpacked(raw: bytes) -> list[float]:
    return array("f", raw).tolist()


class QuestionVectors:
    def __init__(self, embedder: Embedder, cache: Cache, telemetry: Telemetry) -> None:
        self._embedder = embedder
        self._cache = cache
        self._cached = ReadThrough(cache, telemetry, "embedding", EMBEDDING_TTL_SECONDS)

    def _key(self, question: str) -> str:
        digest = hashlib.sha256(normalize(question).encode()).hexdigest()[:32]
        return f"embedding:{self._embedder.model}:{digest}"

    async def erase(self, question: str) -> None:
        """Raises when the cache cannot be reached."""
        await self._cache.delete(self._key(question))

    async def embed(self, question: str) -> list[float]:
        async def load() -> list[float]:
            [vector] = await self._embedder.embed([question])
            return vector

        vector = await self._cached.get(self._key(question), load, _packed, _unpacked)
        assert vector is not None  # the model always gives one
        return vector
