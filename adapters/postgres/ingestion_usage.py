"""Each tenant's documents and chunks taken in, for the plans' monthly ingestion limits.

A tenant's check and record run under a transaction-scoped advisory lock on the tenant,
so two uploads at once cannot both take the last place."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from adapters.postgres.database import Database

_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('ingestion:' || $1, 0))"


class AsyncpgIngestionUsageRepository:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def count_document(
        self, tenant_id: str, document_id: UUID, revision: int, since: datetime, limit: int | None
    ) -> int | None:
        async with self._database.connection() as connection, connection.transaction():
            await connection.execute(_LOCK, tenant_id)
            if await _recorded(connection, document_id, revision):
                return None
            used = await connection.fetchval(
                "SELECT count(*) FROM ingestion_usage WHERE tenant_id = $1 AND counted_at >= $2",
                tenant_id,
                since,
            )
            if limit is not None and used >= limit:
                return int(used)
            await connection.execute(
                """
                INSERT INTO ingestion_usage (document_id, revision, tenant_id, counted_at)
                VALUES ($1, $2, $3, now())
                """,
                document_id,
                revision,
                tenant_id,
            )
        return None

    async def count_chunks(
        self,
        tenant_id: str,
        document_id: UUID,
        revision: int,
        chunks: int,
        since: datetime,
        limit: int | None,
    ) -> int | None:
        async with self._database.connection() as connection, connection.transaction():
            await connection.execute(_LOCK, tenant_id)
            used = await connection.fetchval(
                """
                SELECT coalesce(sum(chunks), 0) FROM ingestion_usage
                WHERE tenant_id = $1 AND counted_at >= $2
                  AND (document_id, revision) <> ($3, $4)
                """,
                tenant_id,
                since,
                document_id,
                revision,
            )
            if limit is not None and used + chunks > limit:
                return int(used)
            # A document from before these counts, or counted in another month, is
            # recorded now.
            await connection.execute(
                """
                INSERT INTO ingestion_usage (document_id, revision, tenant_id, counted_at, chunks)
                VALUES ($1, $2, $3, now(), $4)
                ON CONFLICT (document_id, revision) DO UPDATE SET chunks = excluded.chunks
                """,
                document_id,
                revision,
                tenant_id,
                chunks,
            )
        return None


async def _recorded(connection: asyncpg.Connection, document_id: UUID, revision: int) -> bool:
    found = await connection.fetchval(
        "SELECT true FROM ingestion_usage WHERE document_id = $1 AND revision = $2",
        document_id,
        revision,
    )
    return bool(found)
