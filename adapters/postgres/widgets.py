"""Widgets in PostgreSQL."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from adapters.postgres.database import Database
from application.paging import Position
from domain.models import Widget

# A column per field of the widget, named alike: inserts, updates and reads are written
# from this list, so a new setting needs only its migration.
_COLUMNS = tuple(field.name for field in msgspec.structs.fields(Widget) if field.name != "id")
_PLACEHOLDERS = ", ".join(f"${n}" for n in range(2, len(_COLUMNS) + 2))
_SELECT = f"SELECT id, {', '.join(_COLUMNS)} FROM widgets "
_INSERT = f"INSERT INTO widgets (id, {', '.join(_COLUMNS)}) VALUES ($1, {_PLACEHOLDERS})"
_UPDATE = f"UPDATE widgets SET ({', '.join(_COLUMNS)}) = ({_PLACEHOLDERS}) WHERE id = $1"


def _values(widget: Widget) -> list[Any]:
    return [widget.id, *(getattr(widget, column) for column in _COLUMNS)]


def _widget(row: asyncpg.Record) -> Widget:
    return msgspec.convert(dict(row), Widget)


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

    async def list_for_tenant(
        self, tenant_id: str, after: Position | None, limit: int
    ) -> list[Widget]:
        async with self._database.connection() as connection:
            rows = await connection.fetch(
                _SELECT
                + """
                WHERE tenant_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3))
                ORDER BY created_at, id
                LIMIT $4
                """,
                tenant_id,
                after.at if after else None,
                after.id if after else None,
                limit,
            )
        return [_widget(row) for row in rows]

    async def delete(self, widget_id: UUID) -> None:
        """Its documents, their jobs, conversations and messages go with it."""
        async with self._database.connection() as connection:
            await connection.execute("DELETE FROM widgets WHERE id = $1", widget_id)
