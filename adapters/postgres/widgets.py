"""Widgets in PostgreSQL."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from adapters.postgres.database import Database
from domain.models import Plan, Widget

_SELECT = """
    SELECT id, tenant_id, plan, name, public_key, allowed_origins, system_prompt,
           no_answer_message, top_k, created_at, updated_at
    FROM widgets
"""


def _widget(row: asyncpg.Record) -> Widget:
    return Widget(
        id=row["id"],
        tenant_id=row["tenant_id"],
        plan=Plan(row["plan"]),
        name=row["name"],
        public_key=row["public_key"],
        allowed_origins=tuple(row["allowed_origins"]),
        system_prompt=row["system_prompt"],
        no_answer_message=row["no_answer_message"],
        top_k=row["top_k"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class AsyncpgWidgetRepository:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def add(self, widget: Widget) -> None:
        async with self._database.connection() as connection:
            await connection.execute(
                """
                INSERT INTO widgets (id, tenant_id, plan, name, public_key, allowed_origins,
                                     system_prompt, no_answer_message, top_k,
                                     created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                """,
                widget.id,
                widget.tenant_id,
                widget.plan.value,
                widget.name,
                widget.public_key,
                widget.allowed_origins,
                widget.system_prompt,
                widget.no_answer_message,
                widget.top_k,
                widget.created_at,
                widget.updated_at,
            )

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
            await connection.execute(
                """
                UPDATE widgets
                SET tenant_id = $2, plan = $3, name = $4, public_key = $5,
                    allowed_origins = $6, system_prompt = $7, no_answer_message = $8,
                    top_k = $9, updated_at = $10
                WHERE id = $1
                """,
                widget.id,
                widget.tenant_id,
                widget.plan.value,
                widget.name,
                widget.public_key,
                widget.allowed_origins,
                widget.system_prompt,
                widget.no_answer_message,
                widget.top_k,
                widget.updated_at,
            )

    async def delete(self, widget_id: UUID) -> None:
        """Its documents, their jobs, conversations and messages go with it."""
        async with self._database.connection() as connection:
            await connection.execute("DELETE FROM widgets WHERE id = $1", widget_id)
