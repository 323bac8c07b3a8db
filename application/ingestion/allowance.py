"""Each plan's monthly ingestion limits: documents per tenant, checked at upload, and
chunks per tenant, checked once a document is cut (its count is not known before)."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from application.ports.ingestion import IngestionUsageRepository
from application.ports.system import Clock
from domain.errors import ParseError, QuotaExceededError
from domain.models import Document, Plan, Widget
from domain.months import month_start, next_month


class IngestionLimits(msgspec.Struct, frozen=True, kw_only=True):
    """Per tenant and calendar month (UTC); None is no limit."""

    documents_per_month: int | None = None
    chunks_per_month: int | None = None


class IngestionLimitPolicy(msgspec.Struct, frozen=True, kw_only=True):
    by_plan: Mapping[Plan, IngestionLimits]


class IngestionAllowance:
    def __init__(
        self,
        usage: IngestionUsageRepository,
        clock: Clock,
        policy: IngestionLimitPolicy,
    ) -> None:
        self._usage = usage
        self._clock = clock
        self._by_plan = policy.by_plan

    async def take_document(self, widget: Widget, document: Document) -> None:
        """Counts the document against its tenant's month; past the plan's limit, 429 with
        when it renews (in the caller's transaction, so a refused one is not stored)."""
        now = self._clock.now()
        limit = self._by_plan[widget.plan].documents_per_month
        used = await self._usage.count_document(
            widget.tenant_id, document.id, document.revision, month_start(now), limit
        )
        if used is None:
            return
        renews = next_month(now)
        raise QuotaExceededError(
            f"This account has taken in {used} of its {widget.plan} plan's limit of {limit} "
            f"documents per month; it renews on {renews:%Y-%m-%d} (UTC).",
            retry_after=int((renews - now).total_seconds()),
            details={
                "scope": "documents_per_month",
                "limit": limit,
                "used": used,
                "resets_at": renews.isoformat(),
            },
        )

    async def take_chunks(self, widget: Widget, document: Document, chunks: int) -> None:
        """Counts the document's chunks; a document that would pass the plan's limit fails
        with a reason the owner can read (ParseError)."""
        now = self._clock.now()
        limit = self._by_plan[widget.plan].chunks_per_month
        used = await self._usage.count_chunks(
            widget.tenant_id, document.id, document.revision, chunks, month_start(now), limit
        )
        if used is None or limit is None:
            return
        raise ParseError(
            f"the document has {chunks:,} chunks, more than the {max(limit - used, 0):,} left "
            f"this month of the {widget.plan} plan's {limit:,} chunks per month ({used:,} "
            f"used); the allowance renews on {next_month(now):%Y-%m-%d} (UTC)"
        )
