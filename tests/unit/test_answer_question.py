from __future__ import annotations

import asyncio
from uuid import UUID

import pytest

from application.chat.answer_question import AnswerQuestion
from application.chat.events import ChatFinished, ChatStarted, SourcesFound, TokenDelta
from application.chat.question import Question
from domain.errors import (
    ConversationNotFoundError,
    EmbedderUnavailableError,
    InvalidInputError,
    ModelUnavailableError,
)
from domain.models import Conversation, Plan, Role
from testkit.fakes.core import FakeApp
from testkit.fakes.models import ScriptedModel
from tests.unit.conftest import HANDBOOK, add_document, leave_at_first_token, make_widget


async def test_answers_from_the_widgets_documents_with_a_cited_source(app: FakeApp) -> None:
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)

    turn = await app.get(AnswerQuestion).start(
        Question(widget=widget, message="How many days to return an item?")
    )
    answer = await turn.collect()

    assert "30 days" in answer.answer
    assert "[1]" in answer.answer
    assert answer.sources[0].title == "Handbook"
    assert answer.sources[0].section == "Returns"
    assert answer.model == "extractive"
    assert answer.finish_reason == "stop"


async def test_stream_events_come_in_the_documented_order(app: FakeApp) -> None:
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)

    turn = await app.get(AnswerQuestion).start(
        Question(widget=widget, message="express delivery time")
    )
    events = [e async for e in turn.events()]

    assert isinstance(events[0], ChatStarted)
    assert events[0].message_id == turn.message_id
    assert isinstance(events[1], SourcesFound)
    assert all(isinstance(e, TokenDelta) for e in events[2:-1])
    assert len(events) > 4  # streamed word by word
    assert isinstance(events[-1], ChatFinished)
    assert "two days" in "".join(e.text for e in events if isinstance(e, TokenDelta))


async def test_without_relevant_sources_says_the_no_answer_message_and_calls_no_model() -> None:
    model = ScriptedModel("openai:gpt-4o-mini")
    app = FakeApp(models={Plan.FREE: [model]})
    widget = await make_widget(app, no_answer_message="Ask our support team.")

    answer = await (
        await app.get(AnswerQuestion).start(Question(widget=widget, message="quantum flux"))
    ).collect()

    assert answer.answer == "Ask our support team."
    assert answer.sources == ()
    assert answer.finish_reason == "no_answer"
    assert model.prompts == []


@pytest.mark.parametrize("message", ["", "   ", "x" * 4001])
async def test_refuses_an_empty_or_overlong_message(app: FakeApp, message: str) -> None:
    widget = await make_widget(app)
    with pytest.raises(InvalidInputError):
        await app.get(AnswerQuestion).start(Question(widget=widget, message=message))


async def test_persists_both_messages_and_usage_priced_from_the_table() -> None:
    model = ScriptedModel("openai:gpt-4o-mini")
    app = FakeApp(models={Plan.FREE: [model]})
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)

    answer = await (
        await app.get(AnswerQuestion).start(Question(widget=widget, message="refund card"))
    ).collect()

    user, reply = app.conversations.messages
    assert (user.role, user.content) == (Role.USER, "refund card")
    assert (reply.role, reply.content, reply.id) == (
        Role.ASSISTANT,
        "Hello world [1]",
        answer.message_id,
    )
    assert reply.sources == answer.sources
    [event] = app.usage.events
    assert (event.usage.input_tokens, event.usage.output_tokens) == (12, 3)
    assert event.usage.cost_usd == pytest.approx((12 * 0.15 + 3 * 0.60) / 1e6)
    assert event.tenant_id == "acme" and event.model == "openai:gpt-4o-mini"
    assert answer.usage == event.usage


async def test_a_second_turn_sees_the_history_of_its_conversation() -> None:
    model = ScriptedModel("openai:gpt-4o-mini")
    app = FakeApp(models={Plan.FREE: [model]})
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)
    first = await (
        await app.get(AnswerQuestion).start(Question(widget=widget, message="refund card"))
    ).collect()

    await (
        await app.get(AnswerQuestion).start(
            Question(
                widget=widget,
                message="and express delivery?",
                conversation_id=first.conversation_id,
            )
        )
    ).collect()

    history = model.prompts[-1].history
    assert [(t.role, t.content) for t in history] == [
        (Role.USER, "refund card"),
        (Role.ASSISTANT, "Hello world [1]"),
    ]
    assert len(app.conversations.conversations) == 1


async def test_a_conversation_of_another_widget_is_not_found(app: FakeApp) -> None:
    mine, theirs = await make_widget(app), await make_widget(app)
    await add_document(app, theirs, HANDBOOK)
    answer = await (
        await app.get(AnswerQuestion).start(Question(widget=theirs, message="refund"))
    ).collect()

    with pytest.raises(ConversationNotFoundError):
        await app.get(AnswerQuestion).start(
            Question(widget=mine, message="refund", conversation_id=answer.conversation_id)
        )


async def test_fails_over_to_the_next_model_before_the_first_token() -> None:
    broken = ScriptedModel("anthropic:claude-sonnet-5-5", fail_after=0)
    backup = ScriptedModel("openai:gpt-4o")
    app = FakeApp(models={Plan.PAID: [broken, backup]})
    widget = await make_widget(app, plan=Plan.PAID)
    await add_document(app, widget, HANDBOOK)

    answer = await (
        await app.get(AnswerQuestion).start(Question(widget=widget, message="refund"))
    ).collect()

    assert answer.answer == "Hello world [1]"
    assert answer.model == "openai:gpt-4o"
    assert app.usage.events[0].model == "openai:gpt-4o"
    assert app.telemetry.model_failures == [("anthropic:claude-sonnet-5-5", "failover")]


async def test_when_every_model_fails_the_error_names_them_and_the_turn_is_saved() -> None:
    app = FakeApp(
        models={Plan.FREE: [ScriptedModel("a", fail_after=0), ScriptedModel("b", fail_after=0)]}
    )
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)

    with pytest.raises(ModelUnavailableError) as raised:
        await (
            await app.get(AnswerQuestion).start(Question(widget=widget, message="refund"))
        ).collect()

    assert [f.split(":")[0] for f in raised.value.details["failures"]] == ["a", "b"]
    assert app.conversations.messages[-1].finish_reason == "error"


async def test_a_failure_after_the_first_token_keeps_the_partial_answer() -> None:
    flaky = ScriptedModel("openai:gpt-4o-mini", deltas=("Part ", "one ", "two"), fail_after=2)
    backup = ScriptedModel("extractive-backup")
    app = FakeApp(models={Plan.FREE: [flaky, backup]})
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)

    with pytest.raises(ModelUnavailableError):
        await (
            await app.get(AnswerQuestion).start(Question(widget=widget, message="refund"))
        ).collect()

    reply = app.conversations.messages[-1]
    assert (reply.content, reply.finish_reason) == ("Part one ", "error")
    assert backup.prompts == []  # the visitor already saw tokens: no silent switch
    assert app.telemetry.model_failures == [("openai:gpt-4o-mini", "interrupted")]


async def test_a_visitor_who_leaves_mid_stream_still_gets_the_partial_answer_saved() -> None:
    app = FakeApp(models={Plan.FREE: [ScriptedModel("m", deltas=("a ", "b ", "c "))]})
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)
    turn = await app.get(AnswerQuestion).start(Question(widget=widget, message="refund"))

    await leave_at_first_token(turn)

    reply = app.conversations.messages[-1]
    assert (reply.content, reply.finish_reason) == ("a ", "cancelled")
    assert len(app.usage.events) == 1


async def test_two_widgets_never_see_each_others_documents(app: FakeApp) -> None:
    shop, clinic = await make_widget(app), await make_widget(app)
    await add_document(app, shop, HANDBOOK, title="Shop handbook")
    await add_document(
        app, clinic, "# Hours\n\nThe clinic opens at eight and returns calls daily.", "Clinic"
    )

    for widget, foreign in ((shop, "Clinic"), (clinic, "Shop handbook")):
        for question in ("returns refund days", "clinic opens hours", "delivery"):
            answer = await (
                await app.get(AnswerQuestion).start(Question(widget=widget, message=question))
            ).collect()
            assert foreign not in {s.title for s in answer.sources}


async def test_the_question_is_embedded_while_its_conversation_is_looked_up(
    app: FakeApp,
) -> None:
    # The model is the slowest step before the first token: it must not wait its turn
    # behind the conversation, its history and the answer cache.
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)
    first = await (
        await app.get(AnswerQuestion).start(Question(widget=widget, message="refund"))
    ).collect()
    events: list[str] = []
    embed, get = app.embedder.embed, app.conversations.get

    async def slow_embed(texts: list[str]) -> list[list[float]]:
        events.append("embedding")
        await asyncio.sleep(0.02)
        events.append("embedded")
        return await embed(texts)

    async def slow_get(conversation_id: UUID) -> Conversation | None:
        events.append("looking up")
        await asyncio.sleep(0.02)
        events.append("looked up")
        return await get(conversation_id)

    app.embedder.embed = slow_embed  # type: ignore[method-assign]
    app.conversations.get = slow_get  # type: ignore[method-assign]
    question = Question(
        widget=widget, message="card refund?", conversation_id=first.conversation_id
    )
    answer = await (await app.get(AnswerQuestion).start(question)).collect()

    assert answer.sources and answer.sources[0].title == "Handbook"
    assert events.index("embedding") < events.index("looked up")
    assert events.index("looking up") < events.index("embedded")


async def test_a_cached_answer_is_given_even_when_the_embedder_is_down(app: FakeApp) -> None:
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)
    asked = Question(widget=widget, message="How many days to return an item?")
    first = await (await app.get(AnswerQuestion).start(asked)).collect()

    async def broken(texts: list[str]) -> list[list[float]]:
        raise EmbedderUnavailableError("the model is down")

    app.embedder.embed = broken  # type: ignore[method-assign]
    again = await (await app.get(AnswerQuestion).start(asked)).collect()

    assert again.cached and again.answer == first.answer
