"""Ingestion usage in memory, deciding like PostgreSQL's (one record per revision)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import msgspec


class _Taken(msgspec.Struct, kw_only=True):
    tenant_id: str
    counted_at: datetime
    chunks: int = 0


class MemoryIngestionUsageRepository:
    def __init__(self) -> None:
        self.taken: dict[tuple[UUID, int], _Taken] = {}

    def _since(self, tenant_id: str, since: datetime) -> list[tuple[tuple[UUID, int], _Taken]]:
        return [
            (key, t)
            for key, t in self.taken.items()
            if t.tenant_id == tenant_id and t.counted_at >= since
        ]

    async def count_document(
        self, tenant_id: str, document_id: UUID, revision: int, since: datetime, limit: int | None
    ) -> int | None:
        if (document_id, revision) in self.taken:
            return None
        used = len(self._since(tenant_id, since))
        if limit is not None and used >= limit:
            return used
        self.taken[(document_id, revision)] = _Taken(
            tenant_id=tenant_id, counted_at=datetime.now(UTC)
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
        key = (document_id, revision)
        used = sum(t.chunks for k, t in self._since(tenant_id, since) if k != key)
        if limit is not None and used + chunks > limit:
            return used
        taken = self.taken.setdefault(
            key, _Taken(tenant_id=tenant_id, counted_at=datetime.now(UTC))
        )
        taken.chunks = chunks
        return None
