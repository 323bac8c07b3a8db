"""Owner route: tokens, cost and messages per tenant and period."""

from __future__ import annotations

from datetime import UTC, datetime

from dishka.integrations.litestar import FromDishka, inject
from litestar import get
from litestar.params import FromQuery

from application.usage import SummarizeUsage
from domain.models import UsageSummary
from entrypoints.http.auth import owner_only


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@get("/api/usage", guards=[owner_only], tags=["usage"])
@inject
async def usage(
    tenant_id: FromQuery[str],
    summarize: FromDishka[SummarizeUsage],
    since: FromQuery[datetime | None] = None,
    until: FromQuery[datetime | None] = None,
) -> UsageSummary:
    """Totals and a per-model breakdown; the period defaults to the last 30 days."""
    return await summarize(tenant_id, _utc(since), _utc(until))
