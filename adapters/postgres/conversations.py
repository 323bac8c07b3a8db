"""Conversations and their messages in PostgreSQL."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec

from adapters.postgres.database import Database
from domain.models import Conversation, Message, Role, Source, Usage


def _message(row: asyncpg.Record) -> Message:
    return Message(
        id=row["id"],
        conversation_id=row["conversation_id"],
        role=Role(row["role"]),
        content=row["content"],
        created_at=row["created_at"],
        model=row["model"],
        sources=msgspec.convert(row["sources"], tuple[Source, ...]),
        usage=Usage(row["input_tokens"], row["output_tokens"], float(row["cost_usd"])),
        finish_reason=row["finish_reason"],
    )


class AsyncpgConversationRepository:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def get(self, conversation_id: UUID) -> Conversation | None:
        async with self._database.connection() as connection:
            row = await connection.fetchrow(
                "SELECT id, widget_id, visitor_id, created_at FROM conversations WHERE id = $1",
                conversation_id,
            )
        return Conversation(**row) if row is not None else None

    async def recent_messages(self, conversation_id: UUID, limit: int) -> list[Message]:
        """The last `limit` messages, oldest first."""
        if limit <= 0:
            return []
        async with self._database.connection() as connection:
            rows = await connection.fetch(
                """
                SELECT * FROM (
                    SELECT id, conversation_id, role, content, model, sources, input_tokens,
                           output_tokens, cost_usd, finish_reason, created_at, seq
                    FROM messages
                    WHERE conversation_id = $1
                    ORDER BY created_at DESC, seq DESC
                    LIMIT $2
                ) AS recent
                ORDER BY created_at, seq
                """,
                conversation_id,
                limit,
            )
        return [_message(row) for row in rows]
