"""What a tenant has spent."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from application.ports.storage import UsageRepository
from application.ports.system import Clock
from domain.errors import InvalidInputError
from domain.models import UsageGrouping, UsageSummary

DEFAULT_PERIOD = timedelta(days=30)


class SummarizeUsage:
    def __init__(self, usage: UsageRepository, clock: Clock) -> None:
        self._usage = usage
        self._clock = clock

    async def __call__(
        self,
        tenant_id: str,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        widget_id: UUID | None = None,
        group_by: UsageGrouping = UsageGrouping.MODEL,
    ) -> UsageSummary:
        if not tenant_id.strip():
            raise InvalidInputError("tenant_id is required", details={"parameter": "tenant_id"})
        until = until or self._clock.now()
        since = since or _earlier(until, DEFAULT_PERIOD)
        if since >= until:
            raise InvalidInputError("since must be before until", details={"parameter": "since"})
        return await self._usage.summarize(
            tenant_id, since, until, widget_id=widget_id, group_by=group_by
        )


def _earlier(moment: datetime, by: timedelta) -> datetime:
    """`moment - by`, or the first moment there is when that is before it."""
    try:
        return moment - by
    except OverflowError:
        return datetime.min.replace(tzinfo=moment.tzinfo)
