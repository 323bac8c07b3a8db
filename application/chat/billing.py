"""Billing that no failure can skip: a question's usage is reserved when it is admitted and
settled when its answer ends.

The reservation is a usage event, pending, counted against the tenant's monthly allowance at
once and atomically (N questions racing for the last M messages admit M). Its settlement
writes the answer's real tokens and cost, or marks it failed (never billed). Until then, and
for good if the settlement never comes, it counts against the allowance: an answer that was
delivered but could not be kept is still a message spent.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from application.chat.limits import LimitPolicy
from application.chat.question import Question
from application.ports.storage import UsageRepository
from application.ports.system import Clock, IdGenerator
from application.ports.telemetry import Telemetry
from domain.budget import budget_status
from domain.errors import QuotaExceededError
from domain.models import PENDING_MODEL, BudgetStatus, Usage, UsageEvent, Widget
from domain.months import next_month


class Reservation(msgspec.Struct, frozen=True, kw_only=True):
    """A question's usage event, reserved; over budget, it is answered offline."""

    usage_id: UUID
    over_budget: bool = False


class Billing:
    def __init__(
        self,
        usage: UsageRepository,
        clock: Clock,
        ids: IdGenerator,
        telemetry: Telemetry,
        policy: LimitPolicy,
    ) -> None:
        self._usage = usage
        self._clock = clock
        self._ids = ids
        self._telemetry = telemetry
        self._policy = policy

    async def reserve(
        self, question: Question, conversation_id: UUID, message_id: UUID, asked_at: datetime
    ) -> Reservation:
        """Counts the question against the tenant's month; raises when it is spent."""
        widget = question.widget
        limits = self._policy.by_plan[widget.plan]
        event = UsageEvent(
            id=self._ids.new_id(),
            tenant_id=widget.tenant_id,
            widget_id=widget.id,
            conversation_id=conversation_id,
            message_id=message_id,
            plan=widget.plan,
            model=PENDING_MODEL,
            usage=Usage(),
            pending=True,
            created_at=asked_at,
        )
        month = await self._usage.reserve(event, limits.messages_per_month)
        if month is None:
            self._telemetry.rate_limited("quota")
            raise QuotaExceededError(
                f"This site's monthly allowance of {limits.messages_per_month} messages is "
                "spent; it renews at the start of next month.",
                retry_after=int((next_month(asked_at) - asked_at).total_seconds()),
                details={"scope": "quota"},
            )
        status = budget_status(
            asked_at, limits.monthly_budget_usd, widget.monthly_budget_usd, month
        )
        return Reservation(usage_id=event.id, over_budget=status.over_budget)

    async def budget_of(self, widget: Widget) -> BudgetStatus:
        """Where the widget's spending ceilings stand this month, as its owner reads it."""
        now = self._clock.now()
        month = await self._usage.month_to_date(widget.tenant_id, widget.id, now)
        plan_budget = self._policy.by_plan[widget.plan].monthly_budget_usd
        return budget_status(now, plan_budget, widget.monthly_budget_usd, month)
