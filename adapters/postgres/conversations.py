"""Conversations and their messages in PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from adapters.postgres.database import Database
from application.paging import Position
from application.ports.storage import ConversationFilter, VisitorTrace
from domain.models import (
    BLANKS,
    FINISH_FAILED,
    FINISH_NO_ANSWER,
    AskedQuestion,
    Conversation,
    ConversationDetail,
    ConversationOutcome,
    ConversationSummary,
    ExportedMessage,
    FeedbackCounts,
    Message,
    MessageFeedback,
    RatedMessage,
    Rating,
    Role,
    Source,
    Usage,
)


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


def _feedback(row: asyncpg.Record) -> MessageFeedback | None:
    """The vote read beside a message (the `_RATED` columns), if it has one."""
    if row["rating"] is None:
        return None
    return MessageFeedback(
        rating=Rating(row["rating"]), comment=row["comment"], created_at=row["rated_at"]
    )


def _rated(row: asyncpg.Record) -> RatedMessage:
    return RatedMessage(**msgspec.structs.asdict(_message(row)), feedback=_feedback(row))


# Whether an assistant message `m` is the no-answer message ($n is that message's text).
def _no_answer(m: str, parameter: int) -> str:
    return (
        f"({m}.role = 'assistant' AND ({m}.finish_reason = '{FINISH_NO_ANSWER}' "
        f"OR btrim({m}.content, $${BLANKS}$$) = btrim(${parameter}, $${BLANKS}$$)))"
    )


_OUTCOME = {
    ConversationOutcome.NO_ANSWER: f"""EXISTS (
        SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND {_no_answer("m", 7)})""",
    ConversationOutcome.FAILED: f"""EXISTS (
        SELECT 1 FROM messages m
        WHERE m.conversation_id = c.id AND m.role = 'assistant'
          AND m.finish_reason = '{FINISH_FAILED}')""",
}


# Whether conversation `c` has an answer its visitor rated so (one vote an answer: the last).
def _rated_so(rating: Rating) -> str:
    return f"""EXISTS (
        SELECT 1 FROM messages m JOIN feedback f ON f.message_id = m.id
        WHERE m.conversation_id = c.id AND f.rating = '{rating.value}')"""


def _list(outcome: ConversationOutcome | None, rating: Rating | None) -> str:
    # The page is chosen first, by the conversations' own index; only its rows are then
    # summed up from their messages.
    return f"""
        WITH page AS (
            SELECT c.id, c.widget_id, c.visitor_id, c.created_at
            FROM conversations c
            WHERE c.widget_id = $1
              AND ($2::timestamptz IS NULL OR c.created_at >= $2)
              AND ($3::timestamptz IS NULL OR c.created_at < $3)
              AND ($4::timestamptz IS NULL OR (c.created_at, c.id) < ($4, $5::uuid))
              AND {_OUTCOME[outcome] if outcome else "true"}
              AND {_rated_so(rating) if rating else "true"}
            ORDER BY c.created_at DESC, c.id DESC
            LIMIT $6
        )
        SELECT page.*,
               (SELECT m.content FROM messages m
                WHERE m.conversation_id = page.id AND m.role = 'user'
                ORDER BY m.created_at, m.seq LIMIT 1) AS first_question,
               counts.message_count,
               coalesce(counts.last_activity, page.created_at) AS last_activity,
               counts.up, counts.down
        FROM page
        CROSS JOIN LATERAL (
            SELECT count(*) AS message_count, max(m.created_at) AS last_activity,
                   count(*) FILTER (WHERE f.rating = 'up') AS up,
                   count(*) FILTER (WHERE f.rating = 'down') AS down
            FROM messages m LEFT JOIN feedback f ON f.message_id = m.id
            WHERE m.conversation_id = page.id
        ) AS counts
        ORDER BY page.created_at DESC, page.id DESC
    """


_LIST = {
    (outcome, rating): _list(outcome, rating)
    for outcome in (None, *ConversationOutcome)
    for rating in (None, *Rating)
}


_MESSAGE_FIELDS = (
    "m.id, m.conversation_id, m.role, m.content, m.model, m.sources, m.input_tokens, "
    "m.output_tokens, m.cost_usd, m.finish_reason, m.created_at"
)
# A message's vote, from `LEFT JOIN feedback f ON f.message_id = m.id` (at most one a message).
_RATED = "f.rating, f.comment, f.created_at AS rated_at"
_EXPORT = f"""
    SELECT c.visitor_id, {_MESSAGE_FIELDS}, {_RATED}
    FROM conversations c JOIN messages m ON m.conversation_id = c.id
    LEFT JOIN feedback f ON f.message_id = m.id
    WHERE c.widget_id = $1
      AND ($2::timestamptz IS NULL OR m.created_at >= $2)
      AND ($3::timestamptz IS NULL OR m.created_at < $3)
    ORDER BY c.created_at, c.id, m.created_at, m.seq
"""
# Rows fetched per round trip of the export's cursor: memory stays flat whatever the size.
EXPORT_PREFETCH = 500

# The answers that were the no-answer message, and those rated down, found each by its own
# index and joined by UNION (an answer that is both counts once): an OR of the two in one
# scan probes the votes once per message of the widget, 7 to 10 times slower (50,000
# conversations of 4 messages: 0.8-1.1 s against 0.12 s).
_UNANSWERED = f"""
    WITH gaps AS (
        SELECT a.id, a.conversation_id, a.created_at, a.seq
        FROM conversations c JOIN messages a ON a.conversation_id = c.id
        WHERE c.widget_id = $1
          AND ($2::timestamptz IS NULL OR a.created_at >= $2)
          AND ($3::timestamptz IS NULL OR a.created_at < $3)
          AND {_no_answer("a", 4)}
        UNION
        SELECT a.id, a.conversation_id, a.created_at, a.seq
        FROM feedback f JOIN messages a ON a.id = f.message_id
        WHERE f.widget_id = $1 AND f.rating = '{Rating.DOWN.value}'
          AND ($2::timestamptz IS NULL OR a.created_at >= $2)
          AND ($3::timestamptz IS NULL OR a.created_at < $3)
    )
    SELECT q.content AS text, q.created_at AS asked_at, a.conversation_id
    FROM gaps a
    CROSS JOIN LATERAL (
        SELECT m.content, m.created_at FROM messages m
        WHERE m.conversation_id = a.conversation_id AND m.role = 'user'
          AND (m.created_at, m.seq) < (a.created_at, a.seq)
        ORDER BY m.created_at DESC, m.seq DESC
        LIMIT 1
    ) AS q
    ORDER BY a.created_at DESC, a.seq DESC
    LIMIT $5
"""

# Their messages, and the votes on them, go with the conversations (ON DELETE CASCADE).
_ERASE = """
    WITH doomed AS (
        DELETE FROM conversations WHERE widget_id = $1 AND visitor_id = $2 RETURNING id
    ), unlinked AS (
        UPDATE usage_events SET conversation_id = NULL, message_id = NULL
        WHERE conversation_id IN (SELECT id FROM doomed)
    )
    SELECT count(*) FROM doomed
"""

_PURGE = """
    WITH idle AS (
        SELECT c.id
        FROM conversations c JOIN widgets w ON w.id = c.widget_id
        WHERE w.retention_days IS NOT NULL
          AND c.created_at < $1::timestamptz - make_interval(days => w.retention_days)
          AND coalesce(
                (SELECT max(m.created_at) FROM messages m WHERE m.conversation_id = c.id),
                c.created_at
              ) < $1::timestamptz - make_interval(days => w.retention_days)
        LIMIT $2
    )
    DELETE FROM conversations WHERE id IN (SELECT id FROM idle) RETURNING id
"""


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

    async def list_for_widget(
        self, widget_id: UUID, where: ConversationFilter, after: Position | None, limit: int
    ) -> list[ConversationSummary]:
        arguments = [
            widget_id,
            where.since,
            where.until,
            after.at if after else None,
            after.id if after else None,
            limit,
        ]
        if where.outcome is ConversationOutcome.NO_ANSWER:
            arguments.append(where.no_answer_message)
        async with self._database.connection() as connection:
            rows = await connection.fetch(_LIST[where.outcome, where.rating], *arguments)
        return [
            ConversationSummary(
                id=row["id"],
                widget_id=row["widget_id"],
                visitor_id=row["visitor_id"],
                created_at=row["created_at"],
                first_question=row["first_question"],
                message_count=row["message_count"],
                last_activity=row["last_activity"],
                feedback=FeedbackCounts(up=row["up"], down=row["down"]),
            )
            for row in rows
        ]

    async def detail(self, conversation_id: UUID) -> ConversationDetail | None:
        conversation = await self.get(conversation_id)
        if conversation is None:
            return None
        async with self._database.connection() as connection:
            rows = await connection.fetch(
                f"""
                SELECT {_MESSAGE_FIELDS}, {_RATED}
                FROM messages m LEFT JOIN feedback f ON f.message_id = m.id
                WHERE m.conversation_id = $1 ORDER BY m.created_at, m.seq
                """,
                conversation_id,
            )
        return ConversationDetail(
            **msgspec.structs.asdict(conversation), messages=tuple(_rated(r) for r in rows)
        )

    async def export(
        self, widget_id: UUID, since: datetime | None, until: datetime | None
    ) -> AsyncIterator[ExportedMessage]:
        # A server-side cursor in a read-only snapshot: rows arrive a batch at a time as
        # they are consumed, and the export is consistent however long it streams.
        async with (
            self._database.connection() as connection,
            connection.transaction(isolation="repeatable_read", readonly=True),
        ):
            cursor = connection.cursor(_EXPORT, widget_id, since, until, prefetch=EXPORT_PREFETCH)
            async for row in cursor:
                yield ExportedMessage(
                    visitor_id=row["visitor_id"], message=_message(row), feedback=_feedback(row)
                )

    async def unanswered_questions(
        self, widget_id: UUID, where: ConversationFilter, limit: int
    ) -> list[AskedQuestion]:
        async with self._database.connection() as connection:
            rows = await connection.fetch(
                _UNANSWERED, widget_id, where.since, where.until, where.no_answer_message, limit
            )
        return [AskedQuestion(**row) for row in rows]

    async def trace_of_visitor(self, widget_id: UUID, visitor_id: str) -> VisitorTrace:
        async with self._database.connection() as connection:
            rows = await connection.fetch(
                """
                SELECT c.id, array_remove(array_agg(m.content ORDER BY m.created_at, m.seq)
                                          FILTER (WHERE m.role = 'user'), NULL) AS questions
                FROM conversations c LEFT JOIN messages m ON m.conversation_id = c.id
                WHERE c.widget_id = $1 AND c.visitor_id = $2
                GROUP BY c.id
                ORDER BY c.id
                """,
                widget_id,
                visitor_id,
            )
        return VisitorTrace(
            conversation_ids=tuple(row["id"] for row in rows),
            questions=tuple(q for row in rows for q in row["questions"] or ()),
        )

    async def erase_visitor(self, widget_id: UUID, visitor_id: str) -> int:
        async with self._database.connection() as connection:
            erased: int = await connection.fetchval(_ERASE, widget_id, visitor_id)
        return erased

    async def purge_idle(self, now: datetime, limit: int) -> list[UUID]:
        async with self._database.connection() as connection:
            rows = await connection.fetch(_PURGE, now, limit)
        return [row["id"] for row in rows]
