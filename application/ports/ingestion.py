"""What each tenant has taken in this month, counted for the plans' ingestion limits."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID


class IngestionUsageRepository(Protocol):
    """One record per document revision taken in, kept when the document is deleted (so
    deleting does not give the allowance back). Each call decides and records atomically
    per tenant, so concurrent uploads cannot pass a limit together."""

    async def count_document(
        self, tenant_id: str, document_id: UUID, revision: int, since: datetime, limit: int | None
    ) -> int | None:
        """Records this revision as taken in, unless the tenant's revisions recorded since
        `since` already reach `limit` (None: no limit). Returns None when recorded (or
        already was), else how many the tenant has used."""
        ...

    async def count_chunks(
        self,
        tenant_id: str,
        document_id: UUID,
        revision: int,
        chunks: int,
        since: datetime,
        limit: int | None,
    ) -> int | None:
        """Records this revision's chunks, unless they and the chunks of the tenant's other
        revisions recorded since `since` pass `limit`. Returns None when recorded (again,
        for a revision taken up after a crash), else the chunks the others used."""
        ...
