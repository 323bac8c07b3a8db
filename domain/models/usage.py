"""What answers cost: tokens and dollars, per event and summed over a period."""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

import msgspec

from domain.models.widgets import Plan


class Usage(msgspec.Struct, frozen=True):
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cost_usd + other.cost_usd,
        )


class UsageEvent(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    tenant_id: str
    widget_id: UUID
    # None once the visitor's conversation was erased: the usage stays, unlinked.
    conversation_id: UUID | None
    message_id: UUID | None
    plan: Plan
    model: str
    usage: Usage
    cached: bool = False
    # No answer came (every model failed, or one broke mid-answer): kept, never billed.
    failed: bool = False
    # Reserved when the question was admitted, not settled yet: it counts against the
    # allowance already, and keeps counting if the answer is never settled.
    pending: bool = False
    # Why the answer was given the way it was, when the owner should know: OVER_BUDGET.
    reason: str | None = None
    created_at: datetime


PENDING_MODEL = "pending"  # the model of a reservation until it is settled
OVER_BUDGET = "over_budget"  # answered offline: the monthly spending ceiling was reached


class MonthToDate(msgspec.Struct, frozen=True, kw_only=True):
    """A calendar month (UTC) so far: the tenant's messages counted against its allowance
    (reservations included), and what the tenant and the widget were billed."""

    tenant_messages: int = 0
    tenant_cost_usd: float = 0.0
    widget_cost_usd: float = 0.0


class ModelUsage(msgspec.Struct, frozen=True, kw_only=True):
    model: str
    messages: int
    input_tokens: int
    output_tokens: int
    cost_usd: float


class UsageGrouping(enum.StrEnum):
    DAY = "day"  # the UTC calendar day, "2026-12-05"
    WIDGET = "widget"
    MODEL = "model"


class UsageGroup(msgspec.Struct, frozen=True, kw_only=True):
    """The billed usage of one day, widget or model; `failed` answers are counted apart."""

    key: str
    messages: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    failed: int


class FailedUsage(msgspec.Struct, frozen=True, kw_only=True):
    """Answers that failed: never billed nor counted against the allowance. Tokens and cost
    are what a provider spent before it broke off, reported for the operator."""

    messages: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


class Ceiling(msgspec.Struct, frozen=True, kw_only=True):
    """A monthly spending ceiling (None: unlimited) and what was spent against it."""

    monthly_budget_usd: float | None
    spent_usd: float


class BudgetStatus(msgspec.Struct, frozen=True, kw_only=True):
    """A widget's spending this calendar month: the plan's ceiling is on the tenant's spend,
    the widget's own on the widget's; reaching either stops its paid models."""

    month: str  # "2026-12"
    over_budget: bool
    limited_by: str | None  # "widget" or "plan", whichever ceiling is reached
    plan: Ceiling
    widget: Ceiling


class UsageSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A period's billed usage: the totals equal the sum of the groups."""

    tenant_id: str
    since: datetime
    until: datetime
    messages: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    by_model: tuple[ModelUsage, ...]
    widget_id: UUID | None = None
    group_by: UsageGrouping = UsageGrouping.MODEL
    groups: tuple[UsageGroup, ...] = ()
    failed: FailedUsage = FailedUsage()
    # Answers given offline because a monthly spending ceiling was reached (billed above).
    over_budget: int = 0
    # Of one widget (`widget_id`): where its spending ceilings stand this month.
    budget: BudgetStatus | None = None
