"""Visitors' votes on answers in PostgreSQL."""

from __future__ import annotations

from uuid import UUID

from adapters.postgres.database import Database
from domain.models import Feedback, Rating

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

    async def list_for_widget(self, widget_id: UUID, limit: int = 100) -> list[Feedback]:
        async with self._database.connection() as connection:
            rows = await connection.fetch(
                """
                SELECT message_id, widget_id, rating, comment, created_at FROM feedback
                WHERE widget_id = $1 ORDER BY created_at DESC, message_id LIMIT $2
                """,
                widget_id,
                limit,
            )
        return [
            Feedback(
                message_id=row["message_id"],
                widget_id=row["widget_id"],
                rating=Rating(row["rating"]),
                comment=row["comment"],
                created_at=row["created_at"],
            )
            for row in rows
        ]
