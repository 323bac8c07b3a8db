"""Whole answers to repeated first questions, keyed by the widget's corpus version.

Any change to what a widget knows (a document ready or deleted) draws a new corpus
version, and any change to the widget itself changes its `updated_at`: both are in the
key, so a stale answer is never found, only left to expire.
"""

from __future__ import annotations

import hashlib
import uuid
from uuid import UUID

import msgspec

from application.best_effort import best_effort
from application.ports.caching import Cache
from application.ports.telemetry import Telemetry
from domain.models import Source, Widget

ANSWER_TTL_SECONDS = 3600.0
# Long enough to outlive its answers; when it does expire, a fresh version starts.
VERSION_TTL_SECONDS = 7 * 24 * 3600.0


class CachedAnswer(msgspec.Struct, frozen=True, kw_only=True):
    answer: str
    sources: tuple[Source, ...]
    model: str
    finish_reason: str


def normalize(question: str) -> str:
    return " ".join(question.lower().split()).rstrip(" ?!.")


class AnswerCache:
    def __init__(self, cache: Cache, telemetry: Telemetry) -> None:
        self._cache = cache
        self._telemetry = telemetry
        self._encode = msgspec.msgpack.Encoder().encode
        self._decode = msgspec.msgpack.Decoder(CachedAnswer).decode

    async def _version(self, widget_id: UUID) -> str:
        key = f"corpus:{widget_id}"
        version = await self._cache.get(key)
        if version is None:
            version = uuid.uuid4().hex.encode()
            await self._cache.set(key, version, VERSION_TTL_SECONDS)
        return version.decode()

    async def key_for(self, widget: Widget, question: str) -> str | None:
        """Taken once, before answering: an answer is stored under the corpus version it
        was computed from, so one that raced a new document is never found under the new
        version. None when the cache is down."""

        async def key() -> str:
            version = await self._version(widget.id)
            digest = hashlib.sha256(normalize(question).encode()).hexdigest()[:32]
            return f"answer:{widget.id}:{version}:{widget.updated_at.timestamp()}:{digest}"

        return await best_effort(key(), None, self._telemetry, "answer_cache")

    async def recall(self, key: str) -> CachedAnswer | None:
        raw = await best_effort(self._cache.get(key), None, self._telemetry, "answer_cache")
        self._telemetry.cache_accessed("answer", raw is not None)
        return self._decode(raw) if raw is not None else None

    async def remember(self, key: str, answer: CachedAnswer) -> None:
        stored = self._cache.set(key, self._encode(answer), ANSWER_TTL_SECONDS)
        await best_effort(stored, None, self._telemetry, "answer_cache")

    async def forget_widget(self, widget_id: UUID) -> None:
        """A new corpus version: every answer cached for the widget is out of reach."""
        new = uuid.uuid4().hex.encode()
        await best_effort(
            self._cache.set(f"corpus:{widget_id}", new, VERSION_TTL_SECONDS),
            None,
            self._telemetry,
            "answer_cache",
        )

    async def erase_widget(self, widget_id: UUID) -> None:
        """Every answer cached for the widget deleted, not only put out of reach; raises
        when the cache cannot be reached."""
        await self._cache.delete_prefix(f"answer:{widget_id}:")
        await self._cache.set(f"corpus:{widget_id}", uuid.uuid4().hex.encode(), VERSION_TTL_SECONDS)
