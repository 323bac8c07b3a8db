"""Monthly spending ceilings: per plan on the tenant's spend, per widget on its own; once
one is reached, paid models stop, the widget answers offline, and the owner sees why."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.chat.answer_question import AnswerQuestion
from application.chat.limits import LimitPolicy, PlanLimits
from application.chat.question import ChatPolicy, Question
from application.usage import SummarizeUsage
from domain.models import OVER_BUDGET, Plan, Usage, Widget
from domain.pricing import DEFAULT_PRICES, Price
from testkit.fakes.core import FakeApp
from testkit.fakes.models import ScriptedModel
from tests.unit.conftest import HANDBOOK, add_document, make_widget

MINI = "openai:gpt-4o-mini"
# A million input tokens of GPT-4o-mini: $0.15 an answer.
COST = 0.15


def budgeted(plan_budget: float | None) -> LimitPolicy:
    limits = PlanLimits(
        visitor_per_minute=1000,
        address_per_minute=1000,
        widget_per_minute=1000,
        messages_per_month=1000,
        monthly_budget_usd=plan_budget,
    )
    return LimitPolicy(by_plan=dict.fromkeys(Plan, limits))


def mini() -> ScriptedModel:
    return ScriptedModel(MINI, deltas=("Thirty ", "days [1]"), usage=Usage(1_000_000, 0))


async def _app(plan_budget: float | None, *models: ScriptedModel, **policy: object) -> FakeApp:
    return FakeApp(
        models={Plan.FREE: list(models or [mini()])},
        limit_policy=budgeted(plan_budget),
        chat_policy=ChatPolicy(min_score=0.1, **policy),  # type: ignore[arg-type]
    )


async def _widget(app: FakeApp, **settings: object) -> Widget:
    widget = await make_widget(app, **settings)
    await add_document(app, widget, HANDBOOK)
    return widget


async def models_answering(app: FakeApp, widget: Widget, times: int) -> list[str]:
    answered = []
    for n in range(times):
        question = Question(widget=widget, message=f"How long to return an item? {n}")
        answer = await (await app.get(AnswerQuestion).start(question)).collect()
        answered.append(answer.model)
    return answered


async def test_under_the_plans_ceiling_the_paid_model_answers_and_at_it_the_offline_one() -> None:
    app = await _app(2 * COST)
    widget = await _widget(app)

    # Spent before each: 0, 0.15 (under), 0.30 (at), 0.30 (still at: offline costs nothing).
    assert await models_answering(app, widget, 4) == [MINI, MINI, "extractive", "extractive"]
    offline = app.usage.events[-1]
    assert (offline.reason, offline.usage.cost_usd, offline.model) == (OVER_BUDGET, 0, "extractive")
    assert app.usage.events[0].reason is None


async def test_past_the_plans_ceiling_the_offline_answerer_answers() -> None:
    app = await _app(1.5 * COST)
    widget = await _widget(app)

    # 0.15 is under 0.225; 0.30 is over it.
    assert await models_answering(app, widget, 3) == [MINI, MINI, "extractive"]


async def test_without_a_ceiling_spending_is_unbounded() -> None:
    app = await _app(None)
    widget = await _widget(app)
    assert await models_answering(app, widget, 3) == [MINI] * 3


async def test_a_widgets_own_ceiling_stops_it_alone() -> None:
    app = await _app(None)
    capped = await _widget(app, monthly_budget_usd=COST)
    free_running = await _widget(app)

    assert await models_answering(app, capped, 2) == [MINI, "extractive"]
    assert await models_answering(app, free_running, 2) == [MINI, MINI]


async def test_a_widgets_ceiling_under_the_plans_overrides_it() -> None:
    app = await _app(10 * COST)
    widget = await _widget(app, monthly_budget_usd=COST)
    assert await models_answering(app, widget, 2) == [MINI, "extractive"]


async def test_a_widgets_ceiling_above_the_plans_does_not_lift_it() -> None:
    app = await _app(COST)
    widget = await _widget(app, monthly_budget_usd=100.0)
    assert await models_answering(app, widget, 2) == [MINI, "extractive"]


async def test_the_plans_ceiling_counts_every_widget_of_the_tenant() -> None:
    app = await _app(COST)
    first, second = await _widget(app), await _widget(app)
    await models_answering(app, first, 1)
    assert await models_answering(app, second, 1) == ["extractive"]


async def test_over_budget_a_model_that_costs_nothing_keeps_answering() -> None:
    local = ScriptedModel("openai:llama3.2", deltas=("Local ", "answer"), usage=Usage(5, 5))
    prices = {**DEFAULT_PRICES, "openai:llama3.2": Price(0.0, 0.0)}
    app = await _app(COST, mini(), local, prices=prices)
    widget = await _widget(app)
    assert await models_answering(app, widget, 2) == [MINI, "openai:llama3.2"]


async def test_a_ceiling_of_nothing_answers_offline_from_the_first_question() -> None:
    app = await _app(None)
    widget = await _widget(app, monthly_budget_usd=0)
    assert await models_answering(app, widget, 1) == ["extractive"]


async def test_the_owner_sees_the_widget_over_budget_and_why() -> None:
    app = await _app(10 * COST)
    widget = await _widget(app, monthly_budget_usd=COST)
    await models_answering(app, widget, 3)

    now = app.clock.now()
    summary = await app.get(SummarizeUsage)(
        widget.tenant_id, now - timedelta(days=1), now + timedelta(seconds=1), widget_id=widget.id
    )

    assert summary.over_budget == 2
    budget = summary.budget
    assert budget is not None
    assert (budget.over_budget, budget.limited_by, budget.month) == (True, "widget", f"{now:%Y-%m}")
    assert budget.widget.monthly_budget_usd == COST
    assert budget.widget.spent_usd == pytest.approx(COST)
    assert (budget.plan.monthly_budget_usd, budget.plan.spent_usd) == (
        10 * COST,
        pytest.approx(COST),
    )


async def test_a_tenants_summary_without_a_widget_has_no_budget() -> None:
    app = await _app(COST)
    widget = await _widget(app)
    await models_answering(app, widget, 1)
    now = app.clock.now()
    summary = await app.get(SummarizeUsage)(
        widget.tenant_id, now - timedelta(days=1), now + timedelta(seconds=1)
    )
    assert summary.budget is None and summary.messages == 1


async def test_an_answer_given_offline_over_budget_is_not_cached_for_the_next_month() -> None:
    app = await _app(COST)
    widget = await _widget(app)
    await models_answering(app, widget, 1)  # the month's ceiling is reached
    asked = Question(widget=widget, message="How are refunds paid?")
    offline = await (await app.get(AnswerQuestion).start(asked)).collect()

    app.clock.current += timedelta(days=31)  # a new month, a new budget
    again = await (await app.get(AnswerQuestion).start(asked)).collect()

    assert offline.model == "extractive"
    assert (again.model, again.cached) == (MINI, False)
