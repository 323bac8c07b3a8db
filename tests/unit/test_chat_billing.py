"""What a turn costs when the model never reports it, and what a model is sent."""

from __future__ import annotations

import pytest

from application.chat.answer_question import AnswerQuestion
from application.chat.question import ChatPolicy, Question
from domain.models import Plan, Usage, Widget
from domain.pricing import DEFAULT_PRICES
from domain.prompts import Prompt, PromptBudget, prompt_tokens
from domain.tokens import estimate_tokens
from testkit.fakes.core import FakeApp
from testkit.fakes.models import ScriptedModel
from tests.unit.conftest import HANDBOOK, add_document, leave_at_first_token, make_widget

MINI = "openai:gpt-4o-mini"


async def _app(*models: ScriptedModel, policy: ChatPolicy | None = None) -> tuple[FakeApp, Widget]:
    app = FakeApp(models={Plan.FREE: list(models)}, chat_policy=policy or ChatPolicy(min_score=0.1))
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)
    return app, widget


async def test_a_visitor_who_leaves_is_billed_the_estimate_of_what_was_sent_and_said() -> None:
    model = ScriptedModel(MINI, deltas=("Refunds ", "go ", "back"))
    app, widget = await _app(model)
    turn = await app.get(AnswerQuestion).start(Question(widget=widget, message="refund"))

    await leave_at_first_token(turn)

    [saved] = app.usage.events
    sent = model.prompts[0]
    assert saved.usage.input_tokens == prompt_tokens(sent, estimate_tokens)
    assert saved.usage.output_tokens == estimate_tokens("Refunds ")
    price = DEFAULT_PRICES[MINI]
    assert saved.usage.cost_usd == pytest.approx(
        (saved.usage.input_tokens * price.input_per_mtok + price.output_per_mtok * 2) / 1e6
    )


async def test_a_provider_that_breaks_mid_answer_is_billed_the_estimate_of_what_it_said() -> None:
    model = ScriptedModel(MINI, deltas=("Part ", "one ", "two"), fail_after=2)
    app, widget = await _app(model)

    with pytest.raises(Exception, match="down"):
        await (
            await app.get(AnswerQuestion).start(Question(widget=widget, message="refund"))
        ).collect()

    [saved] = app.usage.events
    assert saved.usage.output_tokens == estimate_tokens("Part one ")
    assert saved.usage.input_tokens == prompt_tokens(model.prompts[0], estimate_tokens)


async def test_reported_usage_wins_over_the_estimate() -> None:
    app, widget = await _app(ScriptedModel(MINI, usage=Usage(5, 2)))
    await (await app.get(AnswerQuestion).start(Question(widget=widget, message="refund"))).collect()
    assert (app.usage.events[0].usage.input_tokens, app.usage.events[0].usage.output_tokens) == (
        5,
        2,
    )


async def test_models_that_failed_before_answering_are_not_billed() -> None:
    app, widget = await _app(
        ScriptedModel("a", fail_after=0), ScriptedModel(MINI, usage=Usage(9, 1))
    )
    await (await app.get(AnswerQuestion).start(Question(widget=widget, message="refund"))).collect()
    [saved] = app.usage.events
    assert (saved.model, saved.usage.input_tokens) == (MINI, 9)


async def test_each_model_is_sent_the_prompt_fitted_to_the_budget() -> None:
    model = ScriptedModel(MINI)
    budget = PromptBudget(history_tokens=20, context_tokens=100_000)
    app, widget = await _app(model, policy=ChatPolicy(min_score=0.1, budget=budget))
    first = await (
        await app.get(AnswerQuestion).start(
            Question(widget=widget, message="how do refunds work for my card " * 2)
        )
    ).collect()
    await (
        await app.get(AnswerQuestion).start(
            Question(
                widget=widget, message="express delivery", conversation_id=first.conversation_id
            )
        )
    ).collect()

    sent: Prompt = model.prompts[-1]
    # The first exchange is estimated at 19 + 4 tokens for the question alone, with the
    # messages' overhead: over 20, so the window is empty.
    assert sent.history == ()
    assert sent.question == "express delivery"
    assert len(model.prompts) == 2
