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
from application.ports import Cache, Telemetry
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

    async def _key(self, widget: Widget, question: str) -> str:
        version = await self._version(widget.id)
        digest = hashlib.sha256(normalize(question).encode()).hexdigest()[:32]
        return f"answer:{widget.id}:{version}:{widget.updated_at.timestamp()}:{digest}"

    async def recall(self, widget: Widget, question: str) -> CachedAnswer | None:
        async def lookup() -> CachedAnswer | None:
            raw = await self._cache.get(await self._key(widget, question))
            return self._decode(raw) if raw is not None else None

        found = await best_effort(lookup(), None, self._telemetry, "answer_cache")
        self._telemetry.cache_accessed("answer", found is not None)
        return found

    async def remember(self, widget: Widget, question: str, answer: CachedAnswer) -> None:
        async def store() -> None:
            key = await self._key(widget, question)
            await self._cache.set(key, self._encode(answer), ANSWER_TTL_SECONDS)

        await best_effort(store(), None, self._telemetry, "answer_cache")

    async def forget_widget(self, widget_id: UUID) -> None:
        """A new corpus version: every answer cached for the widget is out of reach."""
        new = uuid.uuid4().hex.encode()
        await best_effort(
            self._cache.set(f"corpus:{widget_id}", new, VERSION_TTL_SECONDS),
            None,
            self._telemetry,
            "answer_cache",
        )
