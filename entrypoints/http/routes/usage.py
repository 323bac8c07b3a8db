"""Owner route: tokens, cost and messages per tenant and period."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from dishka.integrations.litestar import FromDishka, inject
from litestar import get
from litestar.params import Parameter

from application.usage import SummarizeUsage
from domain.models import UsageGrouping, UsageSummary
from domain.models.text import STORABLE_PATTERN
from entrypoints.http.auth import owner_only
from entrypoints.http.openapi import OWNER, owner_errors
from entrypoints.http.params import Since, Until, moment


@get(
    "/api/usage",
    guards=[owner_only],
    security=OWNER,
    tags=["usage"],
    responses=owner_errors(),
)
@inject
async def usage(
    tenant_id: Annotated[
        str, Parameter(description="The tenant whose usage to sum.", pattern=STORABLE_PATTERN)
    ],
    summarize: FromDishka[SummarizeUsage],
    since: Since = "",
    until: Until = "",
    widget_id: Annotated[UUID | None, Parameter(description="Only this widget's.")] = None,
    group_by: Annotated[
        UsageGrouping,
        Parameter(description="`groups` per UTC day, per widget or per model (default)."),
    ] = UsageGrouping.MODEL,
) -> UsageSummary:
    """The period's billed totals (last 30 days unless `since`/`until`), equal to the sum of
    its `groups`; answers that failed (no model could answer) are never billed nor counted
    against the allowance: `failed` counts them, with what providers spent on them, and each
    group its own. `by_model` is the billed usage per model, whatever `group_by`; a question
    still being answered counts under the model `pending`. `over_budget` counts the answers
    given offline because a monthly spending ceiling was reached; with `widget_id`, `budget`
    says where that widget's ceilings stand this month (`over_budget`, `limited_by`, each
    ceiling with what was spent against it)."""
    return await summarize(
        tenant_id,
        moment(since, "since"),
        moment(until, "until", end=True),
        widget_id=widget_id,
        group_by=group_by,
    )
