"""Monthly spending ceilings: when a widget's paid models must stop.

Two ceilings apply at once. The plan's (set by the operator) bounds what a tenant's answers
cost in a month, across its widgets; a widget's own (set by its owner) bounds that widget's.
A widget's ceiling only ever tightens: it cannot lift the plan's. Reaching either is being
over budget, checked against usage already settled, so answers in flight when the ceiling
is reached can pass it by their own cost.
"""

from __future__ import annotations

from datetime import datetime

from domain.models import BudgetStatus, Ceiling, MonthToDate


def _reached(ceiling: float | None, spent: float) -> bool:
    return ceiling is not None and spent >= ceiling


def budget_status(
    now: datetime,
    plan_budget_usd: float | None,
    widget_budget_usd: float | None,
    spent: MonthToDate,
) -> BudgetStatus:
    by_widget = _reached(widget_budget_usd, spent.widget_cost_usd)
    by_plan = _reached(plan_budget_usd, spent.tenant_cost_usd)
    return BudgetStatus(
        month=f"{now:%Y-%m}",
        over_budget=by_widget or by_plan,
        limited_by="widget" if by_widget else "plan" if by_plan else None,
        plan=Ceiling(monthly_budget_usd=plan_budget_usd, spent_usd=spent.tenant_cost_usd),
        widget=Ceiling(monthly_budget_usd=widget_budget_usd, spent_usd=spent.widget_cost_usd),
    )
