from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from application.answer_cache import AnswerCache
from application.chat.answer_question import AnswerQuestion
from application.chat.limits import LimitPolicy, PlanLimits
from application.chat.question import Question
from application.widgets import AuthorizeVisitor, DeleteWidget, UpdateWidget, WidgetChanges
from domain.errors import CacheUnavailableError, QuotaExceededError, RateLimitedError
from domain.models import Plan
from testkit.fakes.cache import DownCache
from testkit.fakes.core import FakeApp
from testkit.fakes.models import ScriptedModel
from tests.unit.conftest import HANDBOOK, add_document, make_widget


def limited(
    visitor: int = 1000,
    widget: int = 1000,
    month: int = 10_000,
    address: int = 1000,
    **extra: bool,
) -> LimitPolicy:
    limits = PlanLimits(
        visitor_per_minute=visitor,
        address_per_minute=address,
        widget_per_minute=widget,
        messages_per_month=month,
    )
    return LimitPolicy(by_plan={plan: limits for plan in Plan}, **extra)


async def ask(app: FakeApp, widget, message: str = "How long to return an item?", **extra):
    return await (
        await app.get(AnswerQuestion).start(Question(widget=widget, message=message, **extra))
    ).collect()


async def test_a_repeated_question_is_answered_from_the_cache() -> None:
    model = ScriptedModel("openai:gpt-4o-mini")
    app = FakeApp(models={Plan.FREE: [model]})
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)

    first = await ask(app, widget, "How long to return an item?")
    again = await ask(app, widget, "  how long to return an ITEM ")

    assert (first.cached, again.cached) == (False, True)
    assert again.answer == first.answer and again.sources == first.sources
    assert again.model == first.model and again.usage.output_tokens == 0
    assert len(model.prompts) == 1
    assert [e.cached for e in app.usage.events] == [False, True]
    assert ("answer", True) in app.telemetry.cache


async def test_a_new_document_or_a_widget_change_invalidates_cached_answers() -> None:
    app = FakeApp()
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)
    await ask(app, widget)
    assert (await ask(app, widget)).cached

    await add_document(app, widget, "# Gifts\n\nGift cards never expire.", title="Gifts")
    assert not (await ask(app, widget)).cached

    assert (await ask(app, widget)).cached
    changed = await app.get(UpdateWidget)(widget.id, WidgetChanges(system_prompt="Be brief."))
    assert not (await ask(app, changed)).cached


async def test_follow_up_questions_are_never_served_from_the_cache() -> None:
    app = FakeApp()
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)
    first = await ask(app, widget)
    await ask(app, widget)  # cached now as a first question

    follow_up = await ask(app, widget, conversation_id=first.conversation_id)
    assert not follow_up.cached


async def test_a_visitor_over_the_limit_is_refused_with_the_widgets_message() -> None:
    app = FakeApp(limit_policy=limited(visitor=3))
    widget = await make_widget(app, limit_message="Slow down, please.")
    for _ in range(3):
        await app.get(AnswerQuestion).start(Question(widget=widget, message="hi", visitor_id="v1"))

    with pytest.raises(RateLimitedError) as refused:
        await app.get(AnswerQuestion).start(Question(widget=widget, message="hi", visitor_id="v1"))

    assert refused.value.message == "Slow down, please."
    assert 0 < refused.value.retry_after <= 61  # a minute and at most one bucket
    assert refused.value.details == {"scope": "visitor"}
    await app.get(AnswerQuestion).start(Question(widget=widget, message="hi", visitor_id="v2"))
    assert app.telemetry.limited == ["visitor"]


async def test_the_visitor_is_the_address_when_the_widget_sends_no_visitor_id() -> None:
    app = FakeApp(limit_policy=limited(visitor=1))
    widget = await make_widget(app)
    await app.get(AnswerQuestion).start(Question(widget=widget, message="hi", client_ip="10.0.0.1"))
    with pytest.raises(RateLimitedError):
        await app.get(AnswerQuestion).start(
            Question(widget=widget, message="hi", client_ip="10.0.0.1")
        )
    await app.get(AnswerQuestion).start(Question(widget=widget, message="hi", client_ip="10.0.0.2"))


async def test_a_widget_limit_caps_all_its_visitors_and_a_widget_may_override_its_plan() -> None:
    app = FakeApp(limit_policy=limited(widget=2))
    widget = await make_widget(app)
    roomy = await make_widget(app, widget_limit_per_minute=5)
    for n in range(2):
        await app.get(AnswerQuestion).start(
            Question(widget=widget, message="hi", visitor_id=f"v{n}")
        )
    with pytest.raises(RateLimitedError) as refused:
        await app.get(AnswerQuestion).start(Question(widget=widget, message="hi", visitor_id="v9"))
    assert refused.value.details == {"scope": "widget"}
    for n in range(5):
        await app.get(AnswerQuestion).start(
            Question(widget=roomy, message="hi", visitor_id=f"v{n}")
        )


async def test_exactly_the_limit_is_admitted_under_concurrency() -> None:
    app = FakeApp(limit_policy=limited(visitor=50))
    widget = await make_widget(app)

    async def one() -> bool:
        try:
            await app.get(AnswerQuestion).start(
                Question(widget=widget, message="hi", visitor_id="v")
            )
        except RateLimitedError:
            return False
        return True

    admitted = await asyncio.gather(*(one() for _ in range(200)))
    assert sum(admitted) == 50


async def test_the_monthly_allowance_counts_the_tenants_messages() -> None:
    app = FakeApp(limit_policy=limited(month=2))
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)
    await ask(app, widget, "refund card")
    await ask(app, widget, "express delivery")

    with pytest.raises(QuotaExceededError) as spent:
        await app.get(AnswerQuestion).start(Question(widget=widget, message="more"))

    assert spent.value.retry_after > 0 and spent.value.code == "quota_exceeded"


async def test_with_the_cache_down_chats_still_answer_and_limits_fail_open() -> None:
    app = FakeApp(cache=DownCache(), limit_policy=limited(visitor=1))  # type: ignore[arg-type]
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)

    assert await app.get(AuthorizeVisitor)(widget.public_key, None) == widget
    answers = [await ask(app, widget, visitor_id="v") for _ in range(3)]
    follow_up = answers[0].conversation_id
    answers.append(await ask(app, widget, visitor_id="v", conversation_id=follow_up))

    assert all("30 days" in a.answer and not a.cached for a in answers)
    assert {"rate_limit", "answer_cache", "widget", "history"} <= set(app.telemetry.degraded)


async def test_with_the_cache_down_a_closed_limit_refuses() -> None:
    app = FakeApp(cache=DownCache(), limit_policy=limited(fail_open=False))  # type: ignore[arg-type]
    widget = await make_widget(app)
    with pytest.raises(CacheUnavailableError):
        await app.get(AnswerQuestion).start(Question(widget=widget, message="hi"))


async def test_history_is_read_through_the_cache_and_refreshed_after_each_turn() -> None:
    model = ScriptedModel("openai:gpt-4o-mini")
    app = FakeApp(models={Plan.FREE: [model]})
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)
    first = await ask(app, widget, "refund card")
    await ask(app, widget, "and express delivery?", conversation_id=first.conversation_id)
    await ask(app, widget, "and the refund days?", conversation_id=first.conversation_id)

    assert [len(p.history) for p in model.prompts] == [0, 2, 4]
    assert app.telemetry.cache.count(("history", False)) == 2  # forgotten after each turn


async def test_a_visitor_key_is_read_through_the_cache_and_forgotten_on_change() -> None:
    app = FakeApp()
    widget = await make_widget(app)
    assert await app.get(AuthorizeVisitor)(widget.public_key, None) == widget
    assert await app.get(AuthorizeVisitor)(widget.public_key, None) == widget
    assert app.telemetry.cache.count(("widget", True)) == 1

    changed = await app.get(UpdateWidget)(widget.id, WidgetChanges(name="Renamed"))
    assert (
        (await app.get(AuthorizeVisitor)(widget.public_key, None)).name == "Renamed" == changed.name
    )
    await app.get(DeleteWidget)(widget.id)
    with pytest.raises(Exception, match="unknown widget key"):
        await app.get(AuthorizeVisitor)(widget.public_key, None)


async def test_question_vectors_are_cached_by_model_and_normalised_text() -> None:
    from adapters.cache.memory import MemoryCache
    from application.chat.question_vectors import QuestionVectors
    from testkit.fakes.embedder import HashEmbedder
    from testkit.fakes.telemetry import RecordingTelemetry

    embedder, telemetry = HashEmbedder(), RecordingTelemetry()
    queries = QuestionVectors(embedder, MemoryCache(), telemetry)

    first = await queries.embed("Where is my parcel?")
    again = await queries.embed("  where is my PARCEL ")

    assert embedder.calls == [["Where is my parcel?"]]
    assert again == pytest.approx(first, abs=1e-6)
    assert telemetry.cache == [("embedding", False), ("embedding", True)]
    down = QuestionVectors(embedder, DownCache(), telemetry)  # type: ignore[arg-type]
    assert await down.embed("Where is my parcel?") == pytest.approx(first, abs=1e-6)


async def test_an_answer_that_raced_a_new_document_is_not_served_afterwards() -> None:
    app = FakeApp()
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)
    turn = await app.get(AnswerQuestion).start(
        Question(widget=widget, message="How long to return an item?")
    )
    events = turn.events()
    await anext(events)  # start
    await anext(events)  # sources: the answer's key was taken before retrieval
    await app.get(AnswerCache).forget_widget(widget.id)  # a document became ready meanwhile
    async for _ in events:
        pass

    assert not (await ask(app, widget)).cached


async def test_a_visitors_limit_holds_across_a_minutes_boundary() -> None:
    # 10 messages in 2.5 s at 5 a minute, straddling 12:01:00: a fixed window admitted all.
    app = FakeApp(limit_policy=limited(visitor=5))
    widget = await make_widget(app)
    app.clock.current = datetime(2026, 3, 1, 12, 0, 58, 750_000, tzinfo=UTC)
    admitted = 0
    for _ in range(10):
        try:
            await app.get(AnswerQuestion).start(
                Question(widget=widget, message="hi", visitor_id="v")
            )
            admitted += 1
        except RateLimitedError as refused:
            assert refused.details == {"scope": "visitor"}
            assert 58 <= refused.retry_after <= 61
        app.clock.current += timedelta(milliseconds=250)

    assert admitted == 5


async def test_a_new_visitor_id_per_message_does_not_pass_the_address_limit() -> None:
    app = FakeApp(limit_policy=limited(visitor=3, address=5))
    widget = await make_widget(app, limit_message="Slow down, please.")
    outcomes = []
    for n in range(20):
        question = Question(
            widget=widget, message="hi", visitor_id=f"fresh-{n}", client_ip="203.0.113.9"
        )
        try:
            await app.get(AnswerQuestion).start(question)
            outcomes.append("ok")
        except RateLimitedError as refused:
            outcomes.append(refused.details["scope"])

    assert outcomes == ["ok"] * 5 + ["address"] * 15
    # Another address is not held back by this one.
    other = Question(widget=widget, message="hi", visitor_id="fresh-0", client_ip="198.51.100.4")
    await app.get(AnswerQuestion).start(other)
    assert app.telemetry.limited == ["address"] * 15


async def test_a_widget_that_raises_its_visitor_limit_raises_the_address_limit_with_it() -> None:
    app = FakeApp(limit_policy=limited(visitor=3, address=5))
    kiosk = await make_widget(app, visitor_limit_per_minute=8)
    for _ in range(8):
        await app.get(AnswerQuestion).start(
            Question(widget=kiosk, message="hi", visitor_id="kiosk", client_ip="203.0.113.9")
        )
    with pytest.raises(RateLimitedError):
        await app.get(AnswerQuestion).start(
            Question(widget=kiosk, message="hi", visitor_id="kiosk", client_ip="203.0.113.9")
        )
