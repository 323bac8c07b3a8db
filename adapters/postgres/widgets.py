"""Widgets in PostgreSQL."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from adapters.postgres.database import Database
from domain.models import Plan, Widget

# Every column but id, in one place: inserts and updates are written from this list.
_COLUMNS = (
    "tenant_id",
    "plan",
    "name",
    "public_key",
    "allowed_origins",
    "system_prompt",
    "no_answer_message",
    "top_k",
    "limit_message",
    "visitor_limit_per_minute",
    "widget_limit_per_minute",
    "models",
    "created_at",
    "updated_at",
)
_PLACEHOLDERS = ", ".join(f"${n}" for n in range(2, len(_COLUMNS) + 2))
_SELECT = f"SELECT id, {', '.join(_COLUMNS)} FROM widgets "
_INSERT = f"INSERT INTO widgets (id, {', '.join(_COLUMNS)}) VALUES ($1, {_PLACEHOLDERS})"
_UPDATE = f"UPDATE widgets SET ({', '.join(_COLUMNS)}) = ({_PLACEHOLDERS}) WHERE id = $1"


def _values(widget: Widget) -> list[Any]:
    row = {**{c: getattr(widget, c) for c in _COLUMNS}, "plan": widget.plan.value}
    return [widget.id, *(row[c] for c in _COLUMNS)]


def _widget(row: asyncpg.Record) -> Widget:
    fields = dict(row)
    return Widget(
        **{
            **fields,
            "plan": Plan(fields["plan"]),
            "allowed_origins": tuple(fields["allowed_origins"]),
            "models": tuple(fields["models"]),
        }
    )


class AsyncpgWidgetRepository:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def add(self, widget: Widget) -> None:
        async with self._database.connection() as connection:
            await connection.execute(_INSERT, *_values(widget))

    async def get(self, widget_id: UUID) -> Widget | None:
        async with self._database.connection() as connection:
            row = await connection.fetchrow(_SELECT + "WHERE id = $1", widget_id)
        return _widget(row) if row is not None else None

    async def get_by_public_key(self, public_key: str) -> Widget | None:
        async with self._database.connection() as connection:
            row = await connection.fetchrow(_SELECT + "WHERE public_key = $1", public_key)
        return _widget(row) if row is not None else None

    async def update(self, widget: Widget) -> None:
        async with self._database.connection() as connection:
            await connection.execute(_UPDATE, *_values(widget))

    async def delete(self, widget_id: UUID) -> None:
        """Its documents, their jobs, conversations and messages go with it."""
        async with self._database.connection() as connection:
            await connection.execute("DELETE FROM widgets WHERE id = $1", widget_id)
