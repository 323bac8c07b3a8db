"""Visitors' votes on answers in PostgreSQL."""

from __future__ import annotations

from uuid import UUID

from adapters.postgres.database import Database
from application.paging import Position
from application.ports.storage import FeedbackFilter
from domain.models import Feedback, RatedAnswer, Rating

# One statement: the vote is kept only when its message is an answer in a conversation of
# the same widget, so a key can never rate another widget's answers.
_SAVE = """
    INSERT INTO feedback (message_id, widget_id, rating, comment, created_at)
    SELECT m.id, c.widget_id, $3, $4, $5
    FROM messages m JOIN conversations c ON c.id = m.conversation_id
    WHERE m.id = $1 AND c.widget_id = $2 AND m.role = 'assistant'
    ON CONFLICT (message_id) DO UPDATE
        SET rating = EXCLUDED.rating, comment = EXCLUDED.comment,
            created_at = EXCLUDED.created_at
"""


# Votes by the widget's index, each with the answer it rates and the question before it.
_LIST = """
    SELECT f.message_id, a.conversation_id, c.visitor_id, f.rating, f.comment, f.created_at,
           q.content AS question, a.content AS answer
    FROM feedback f
    JOIN messages a ON a.id = f.message_id
    JOIN conversations c ON c.id = a.conversation_id
    LEFT JOIN LATERAL (
        SELECT m.content FROM messages m
        WHERE m.conversation_id = a.conversation_id AND m.role = 'user'
          AND (m.created_at, m.seq) < (a.created_at, a.seq)
        ORDER BY m.created_at DESC, m.seq DESC
        LIMIT 1
    ) AS q ON true
    WHERE f.widget_id = $1
      AND ($2::text IS NULL OR f.rating = $2)
      AND ($3::timestamptz IS NULL OR f.created_at >= $3)
      AND ($4::timestamptz IS NULL OR f.created_at < $4)
      AND ($5::timestamptz IS NULL OR (f.created_at, f.message_id) < ($5, $6::uuid))
    ORDER BY f.created_at DESC, f.message_id DESC
    LIMIT $7
"""


class AsyncpgFeedbackRepository:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def save(self, feedback: Feedback) -> bool:
        async with self._database.connection() as connection:
            status = await connection.execute(
                _SAVE,
                feedback.message_id,
                feedback.widget_id,
                feedback.rating.value,
                feedback.comment,
                feedback.created_at,
            )
        return bool(status == "INSERT 0 1")

    async def list_for_widget(
        self, widget_id: UUID, where: FeedbackFilter, after: Position | None, limit: int
    ) -> list[RatedAnswer]:
        async with self._database.connection() as connection:
            rows = await connection.fetch(
                _LIST,
                widget_id,
                where.rating.value if where.rating else None,
                where.since,
                where.until,
                after.at if after else None,
                after.id if after else None,
                limit,
            )
        return [RatedAnswer(**{**row, "rating": Rating(row["rating"])}) for row in rows]
