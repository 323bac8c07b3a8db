"""A chat turn saved in one statement: its conversation when new, its messages, and its
usage event settled (the reservation made at admission, with the month's counts moved).

One statement is one round trip and its own transaction: the turn is saved before the
stream's `done` event and the JSON answer, so every round trip here is the visitor's. The
foreign keys are checked at the end of the statement, when the conversation is in.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from adapters.postgres.database import Database
from adapters.postgres.rows import MESSAGE_COLUMNS, message_row, usage_row
from adapters.postgres.usage_months import settle_ctes
from application.ports.storage import Exchange

_MESSAGE_FIELDS = MESSAGE_COLUMNS.count(",") + 1
_NEW_CONVERSATION = """
    new_conversation AS (
        INSERT INTO conversations (id, widget_id, visitor_id, created_at)
        VALUES ($1::uuid, $2::uuid, $3::text, $4::timestamptz)
        ON CONFLICT (id) DO NOTHING
    ),"""


@cache
def _statement(messages: int, new_conversation: bool) -> str:
    first = 5 if new_conversation else 1
    rows = ",\n".join(
        "(" + ", ".join(f"${n}" for n in range(start, start + _MESSAGE_FIELDS)) + ")"
        for start in range(first, first + messages * _MESSAGE_FIELDS, _MESSAGE_FIELDS)
    )
    usage = first + messages * _MESSAGE_FIELDS
    return f"""
        WITH {_NEW_CONVERSATION if new_conversation else ""}
        new_messages AS (
            INSERT INTO messages ({MESSAGE_COLUMNS})
            VALUES {rows}
        ),
        {settle_ctes(usage)}
    """


class AsyncpgExchangeRepository:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def save(self, turn: Exchange) -> None:
        """Saving a turn whose conversation exists already does not add it again, nor does its
        usage event count twice; a message that exists already fails the whole turn."""
        if not turn.messages:
            raise ValueError("a turn has at least one message")
        arguments: list[Any] = []
        conversation = turn.new_conversation
        if conversation is not None:
            arguments += (
                conversation.id,
                conversation.widget_id,
                conversation.visitor_id,
                conversation.created_at,
            )
        for message in turn.messages:
            arguments += message_row(message)
        arguments += usage_row(turn.usage)
        statement = _statement(len(turn.messages), conversation is not None)
        async with self._database.connection() as connection:
            await connection.execute(statement, *arguments)
