"""What a tenant has spent; of one widget, where its spending ceilings stand this month."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import msgspec

from application.chat.billing import Billing
from application.ports.storage import UsageRepository, WidgetRepository
from application.ports.system import Clock
from domain.errors import InvalidInputError
from domain.models import UsageGrouping, UsageSummary

DEFAULT_PERIOD = timedelta(days=30)


class SummarizeUsage:
    def __init__(
        self, usage: UsageRepository, widgets: WidgetRepository, billing: Billing, clock: Clock
    ) -> None:
        self._usage = usage
        self._widgets = widgets
        self._billing = billing
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
        summary = await self._usage.summarize(
            tenant_id, since, until, widget_id=widget_id, group_by=group_by
        )
        widget = await self._widgets.get(widget_id) if widget_id is not None else None
        if widget is None or widget.tenant_id != tenant_id:
            return summary
        return msgspec.structs.replace(summary, budget=await self._billing.budget_of(widget))


def _earlier(moment: datetime, by: timedelta) -> datetime:
    """`moment - by`, or the first moment there is when that is before it."""
    try:
        return moment - by
    except OverflowError:
        return datetime.min.replace(tzinfo=moment.tzinfo)
