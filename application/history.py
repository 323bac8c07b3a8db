"""A conversation's last messages, read through the cache; PostgreSQL stays the truth."""

from __future__ import annotations

from uuid import UUID

import msgspec

from application.best_effort import ReadThrough
from application.ports import Cache, ConversationRepository, Telemetry
from domain.models import Message

HISTORY_TTL_SECONDS = 300.0


class RecentHistory:
    def __init__(
        self, conversations: ConversationRepository, cache: Cache, telemetry: Telemetry
    ) -> None:
        self._conversations = conversations
        self._cached = ReadThrough(cache, telemetry, "history", HISTORY_TTL_SECONDS)
        self._encode = msgspec.msgpack.Encoder().encode
        self._decode = msgspec.msgpack.Decoder(list[Message]).decode

    async def recent(self, conversation_id: UUID, limit: int) -> list[Message]:
        async def load() -> list[Message]:
            return await self._conversations.recent_messages(conversation_id, limit)

        key = f"history:{conversation_id}:{limit}"
        found = await self._cached.get(key, load, self._encode, self._decode)
        return found or []

    async def forget(self, conversation_id: UUID, limit: int) -> None:
        """After new messages are saved: the next read goes to the database."""
        await self._cached.forget(f"history:{conversation_id}:{limit}")
