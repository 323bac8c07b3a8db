"""A conversation's last messages, read through the cache; PostgreSQL stays the truth."""

from __future__ import annotations

from uuid import UUID

import msgspec

from application.best_effort import ReadThrough
from application.chat.question import ChatPolicy
from application.ports.caching import Cache
from application.ports.storage import ConversationRepository
from application.ports.telemetry import Telemetry
from domain.models import Message

HISTORY_TTL_SECONDS = 300.0


class RecentHistory:
    def __init__(
        self,
        conversations: ConversationRepository,
        cache: Cache,
        telemetry: Telemetry,
        policy: ChatPolicy,
    ) -> None:
        self._conversations = conversations
        self._cache = cache
        self._cached = ReadThrough(cache, telemetry, "history", HISTORY_TTL_SECONDS)
        self._limit = policy.history_messages
        self._encode = msgspec.msgpack.Encoder().encode
        self._decode = msgspec.msgpack.Decoder(list[Message]).decode

    def _key(self, conversation_id: UUID) -> str:
        return f"history:{conversation_id}:{self._limit}"

    async def recent(self, conversation_id: UUID) -> list[Message]:
        async def load() -> list[Message]:
            return await self._conversations.recent_messages(conversation_id, self._limit)

        found = await self._cached.get(self._key(conversation_id), load, self._encode, self._decode)
        return found or []

    async def forget(self, conversation_id: UUID) -> None:
        """After new messages are saved: the next read goes to the database."""
        await self._cached.forget(self._key(conversation_id))

    async def erase(self, conversation_id: UUID) -> None:
        """Every cached copy, whatever its window; raises when the cache cannot be reached."""
        await self._cache.delete_prefix(f"history:{conversation_id}:")
