"""The site owner's side on fakes: widgets and conversations listed, read and exported,
unanswered questions grouped, usage that adds up, visitors erased, conversations purged."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
import pytest

from adapters.cache.memory import MemoryCache
from application.chat.answer_question import AnswerQuestion
from application.chat.question import Question
from application.conversations import ExportConversations, ListConversations, ReadConversation
from application.data_rights import EraseVisitor, PurgeIdleConversations
from application.insights import UnansweredQuestions
from application.paging import MAX_LIMIT
from application.usage import SummarizeUsage
from application.widgets import ListWidgets, UpdateWidget, WidgetChanges
from domain.errors import (
    ConversationNotFoundError,
    DependencyUnavailableError,
    InvalidInputError,
    ModelUnavailableError,
    WidgetNotFoundError,
)
from domain.models import Answer, ConversationOutcome, Plan, Role, UsageGrouping, Widget
from testkit.fakes.cache import DownCache
from testkit.fakes.core import FakeApp
from testkit.fakes.models import ScriptedModel
from tests.unit.conftest import HANDBOOK, add_document, make_widget

NO_ANSWER = "Sorry, I can't help with that."


async def ask(app: FakeApp, widget: Widget, message: str, **question: Any) -> Answer:
    turn = await app.get(AnswerQuestion).start(Question(widget=widget, message=message, **question))
    return await turn.collect()


async def a_helpdesk(app: FakeApp, **settings: Any) -> Widget:
    widget = await make_widget(app, no_answer_message=NO_ANSWER, **settings)
    await add_document(app, widget, HANDBOOK)
    return widget


# Widgets


async def test_a_tenants_widgets_come_a_page_at_a_time(app: FakeApp) -> None:
    mine = [await make_widget(app, name=f"W{n}") for n in range(5)]
    await make_widget(app, tenant_id="other")
    list_widgets = app.get(ListWidgets)

    first = await list_widgets("acme", limit=2)
    second = await list_widgets("acme", first.next_cursor, limit=2)
    last = await list_widgets("acme", second.next_cursor, limit=2)

    assert [w.id for w in [*first.items, *second.items, *last.items]] == [w.id for w in mine]
    assert last.next_cursor is None
    assert (await list_widgets("acme", limit=5)).next_cursor is None  # exactly a page: no more


@pytest.mark.parametrize(
    ("call", "parameter"),
    [
        ({"tenant_id": " "}, "tenant_id"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "W10"}, "cursor"),  # base64 of something that is no position
        ({"limit": 0}, "limit"),
        ({"limit": MAX_LIMIT + 1}, "limit"),
    ],
)
async def test_a_bad_page_request_names_its_parameter(
    app: FakeApp, call: dict[str, Any], parameter: str
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        await app.get(ListWidgets)(**({"tenant_id": "acme"} | call))
    assert refused.value.details == {"parameter": parameter}


# Conversations


async def test_conversations_are_listed_newest_first_with_what_an_owner_scans_for(
    app: FakeApp,
) -> None:
    widget = await a_helpdesk(app)
    first = await ask(app, widget, "How many days to return an item?", visitor_id="v-1")
    await ask(app, widget, "And express delivery?", conversation_id=first.conversation_id)
    second = await ask(app, widget, "quantum flux capacitor", visitor_id="v-2")

    page = await app.get(ListConversations)(widget.id)

    assert [c.id for c in page.items] == [second.conversation_id, first.conversation_id]
    older = page.items[1]
    assert (older.visitor_id, older.first_question, older.message_count) == (
        "v-1",
        "How many days to return an item?",
        4,
    )
    assert older.last_activity > older.created_at
    assert page.next_cursor is None


async def test_conversations_are_filtered_by_outcome_and_period() -> None:
    broken = ScriptedModel("openai:gpt-4o-mini", fail_after=0)
    app = FakeApp(models={Plan.FREE: [broken], Plan.PAID: [broken]})
    widget = await a_helpdesk(app)
    start = app.clock.now()
    unanswered = await ask(app, widget, "quantum flux capacitor")
    with pytest.raises(ModelUnavailableError):
        await ask(app, widget, "How many days to return an item?")
    [failed] = [c for c in app.conversations.conversations if c != unanswered.conversation_id]
    list_conversations = app.get(ListConversations)

    no_answer = await list_conversations(widget.id, outcome=ConversationOutcome.NO_ANSWER)
    failures = await list_conversations(widget.id, outcome=ConversationOutcome.FAILED)
    before = await list_conversations(widget.id, until=start)
    after = await list_conversations(widget.id, since=start)

    assert [c.id for c in no_answer.items] == [unanswered.conversation_id]
    assert [c.id for c in failures.items] == [failed]
    assert before.items == []
    assert len(after.items) == 2
    with pytest.raises(InvalidInputError):
        await list_conversations(widget.id, since=start, until=start)
    with pytest.raises(WidgetNotFoundError):
        await list_conversations(app.ids.new_id())


async def test_a_conversation_reads_in_full_with_sources_models_and_usage(app: FakeApp) -> None:
    widget = await a_helpdesk(app)
    answer = await ask(app, widget, "How many days to return an item?")

    detail = await app.get(ReadConversation)(answer.conversation_id)

    question, reply = detail.messages
    assert (question.role, question.content) == (Role.USER, "How many days to return an item?")
    assert (reply.role, reply.content, reply.model) == (Role.ASSISTANT, answer.answer, answer.model)
    assert (reply.sources, reply.usage, reply.finish_reason) == (
        answer.sources,
        answer.usage,
        "stop",
    )
    with pytest.raises(ConversationNotFoundError):
        await app.get(ReadConversation)(app.ids.new_id())


async def test_an_export_streams_every_message_of_the_widget(app: FakeApp) -> None:
    widget = await a_helpdesk(app)
    for visitor in ("v-1", "v-2"):
        await ask(app, widget, f"refunds for {visitor}", visitor_id=visitor)
    await ask(app, await a_helpdesk(app), "someone else's question")

    rows = [row async for row in await app.get(ExportConversations)(widget.id)]

    assert [(r.visitor_id, r.message.role) for r in rows] == [
        ("v-1", Role.USER),
        ("v-1", Role.ASSISTANT),
        ("v-2", Role.USER),
        ("v-2", Role.ASSISTANT),
    ]
    with pytest.raises(WidgetNotFoundError):
        await app.get(ExportConversations)(app.ids.new_id())


# Insights


async def test_unanswered_questions_are_grouped_by_meaning_with_counts() -> None:
    app = FakeApp()
    widget = await a_helpdesk(app)
    for question in (
        "quantum flux capacitor",
        "Quantum flux capacitor?",  # the same wording, normalised
        "quantum flux capacitor price",
        "zebra grooming",
        "How many days to return an item?",  # answered: not a gap
    ):
        await ask(app, widget, question)

    insights = await app.get(UnansweredQuestions)(widget.id)

    assert insights.total == 4
    assert [(g.example, g.count) for g in insights.groups] == [
        ("Quantum flux capacitor?", 3),  # the newest of the most asked wording
        ("zebra grooming", 1),
    ]
    assert insights.groups[0].questions == [
        "Quantum flux capacitor?",
        "quantum flux capacitor price",
    ]


async def test_an_answer_in_the_no_answer_messages_own_words_is_a_gap_too() -> None:
    """A model told to say the no-answer message when its sources hold nothing."""
    model = ScriptedModel("openai:gpt-4o-mini", deltas=(NO_ANSWER,))
    app = FakeApp(models={Plan.FREE: [model], Plan.PAID: [model]})
    widget = await a_helpdesk(app)
    await ask(app, widget, "How many days to return an item?")

    insights = await app.get(UnansweredQuestions)(widget.id)

    assert [g.example for g in insights.groups] == ["How many days to return an item?"]


# Usage


async def test_failed_answers_are_counted_apart_and_never_billed() -> None:
    flaky = ScriptedModel("openai:gpt-4o-mini", fail_after=0)
    app = FakeApp(models={Plan.FREE: [flaky], Plan.PAID: [flaky]})
    widget = await a_helpdesk(app)
    for _ in range(3):
        with pytest.raises(ModelUnavailableError):
            await ask(app, widget, "How many days to return an item?")
    await ask(app, widget, "quantum flux capacitor")  # no model needed: billed, at no cost

    summary = await app.get(SummarizeUsage)("acme")

    assert (summary.messages, summary.failed.messages) == (1, 3)
    assert [(m.model, m.messages) for m in summary.by_model] == [("openai:gpt-4o-mini", 1)]
    assert [(g.key, g.messages, g.failed) for g in summary.groups] == [("openai:gpt-4o-mini", 1, 3)]
    assert all(e.failed for e in app.usage.events[:3])


async def test_usage_is_grouped_by_day_widget_or_model_and_adds_up() -> None:
    mini = ScriptedModel("openai:gpt-4o-mini")
    app = FakeApp(models={Plan.FREE: [mini], Plan.PAID: [ScriptedModel("extractive")]})
    free, paid = await a_helpdesk(app), await a_helpdesk(app, plan=Plan.PAID)
    for day in range(3):
        app.clock.current += timedelta(days=1)
        for widget in (free, paid)[: day + 1 if day < 2 else 2]:
            await ask(app, widget, "How many days to return an item?")
    summarize = app.get(SummarizeUsage)

    by_day = await summarize("acme", group_by=UsageGrouping.DAY)
    by_widget = await summarize("acme", group_by=UsageGrouping.WIDGET)
    one_widget = await summarize("acme", widget_id=paid.id, group_by=UsageGrouping.WIDGET)

    assert [(g.key, g.messages) for g in by_day.groups] == [
        ("2026-01-02", 1),
        ("2026-01-03", 2),
        ("2026-01-04", 2),
    ]
    assert {g.key: g.messages for g in by_widget.groups} == {str(free.id): 3, str(paid.id): 2}
    for summary in (by_day, by_widget):
        assert summary.messages == sum(g.messages for g in summary.groups) == 5
        assert summary.input_tokens == sum(g.input_tokens for g in summary.groups) > 0
        assert summary.cost_usd == pytest.approx(sum(g.cost_usd for g in summary.groups))
    assert (one_widget.messages, [g.key for g in one_widget.groups]) == (2, [str(paid.id)])


# Data rights


async def test_erasing_a_visitor_leaves_nothing_of_them_in_storage_or_the_cache() -> None:
    app = FakeApp()
    widget = await a_helpdesk(app)
    cache = app.cache
    assert isinstance(cache, MemoryCache)
    secret = "my card 4242 refunds please"
    first = await ask(app, widget, secret, visitor_id="v-erase")
    await ask(app, widget, "and express delivery", visitor_id="v-erase",
              conversation_id=first.conversation_id)  # fmt: skip
    await ask(
        app,
        widget,
        "one more follow up",
        visitor_id="v-erase",
        conversation_id=first.conversation_id,
    )  # fmt: skip  (its history is cached)
    their_vectors = [k for k in cache._entries if k.startswith("embedding:")]
    assert len(their_vectors) == 3
    kept = await ask(app, widget, "How many days to return an item?", visitor_id="v-keep")

    erased = await app.get(EraseVisitor)(widget.id, "v-erase")

    assert erased == 1
    assert await app.conversations.get(first.conversation_id) is None
    assert all(m.conversation_id != first.conversation_id for m in app.conversations.messages)
    assert await app.conversations.get(kept.conversation_id) is not None
    # The cache: no history of the conversation, no vector of its questions, no answers.
    keys = list(cache._entries)
    assert not [k for k in keys if str(first.conversation_id) in k]
    assert not [k for k in keys if k.startswith(f"answer:{widget.id}:")]
    assert not [k for k in their_vectors if k in cache._entries]
    assert not any(secret.encode() in value for _, value in cache._entries.values()
                   if isinstance(value, bytes))  # fmt: skip
    # Usage stays, unlinked: three answers billed, none linked to the erased conversation.
    assert len(app.usage.events) == 4
    assert all(e.conversation_id != first.conversation_id for e in app.usage.events)
    assert sum(e.conversation_id is None for e in app.usage.events) == 3
    assert (await app.get(SummarizeUsage)("acme")).messages == 4


async def test_erasure_with_the_cache_down_erases_nothing_and_says_so() -> None:
    app = FakeApp()
    widget = await a_helpdesk(app)
    answer = await ask(app, widget, "How many days to return an item?", visitor_id="v-1")
    down = FakeApp(widgets=app.widgets, conversations=app.conversations, usage=app.usage,
                   cache=DownCache())  # fmt: skip

    with pytest.raises(DependencyUnavailableError, match="nothing was erased"):
        await down.get(EraseVisitor)(widget.id, "v-1")

    assert await app.conversations.get(answer.conversation_id) is not None


async def test_erasing_refuses_an_unknown_widget_or_an_empty_visitor(app: FakeApp) -> None:
    widget = await make_widget(app)
    with pytest.raises(WidgetNotFoundError):
        await app.get(EraseVisitor)(app.ids.new_id(), "v-1")
    with pytest.raises(InvalidInputError):
        await app.get(EraseVisitor)(widget.id, "")
    assert await app.get(EraseVisitor)(widget.id, "never-seen") == 0


async def test_conversations_idle_past_the_retention_period_are_purged() -> None:
    app = FakeApp()
    widget = await a_helpdesk(app)
    kept_forever = await a_helpdesk(app)
    old = await ask(app, widget, "How many days to return an item?")
    forever = await ask(app, kept_forever, "How many days to return an item?")
    await app.get(UpdateWidget)(widget.id, WidgetChanges(retention_days=30))
    app.clock.current += timedelta(days=29)
    recent = await ask(app, widget, "And shipping?")
    app.clock.current += timedelta(days=2)

    purged = await app.get(PurgeIdleConversations)()

    assert purged == 1
    assert await app.conversations.get(old.conversation_id) is None
    assert await app.conversations.get(recent.conversation_id) is not None
    assert await app.conversations.get(forever.conversation_id) is not None
    assert await app.get(PurgeIdleConversations)() == 0


async def test_a_period_reaching_back_before_the_first_day_is_cut_there_not_overflowed() -> None:
    from datetime import UTC, datetime

    app = FakeApp()
    until = datetime(1, 1, 5, tzinfo=UTC)

    summary = await app.get(SummarizeUsage)("acme", until=until)

    assert (summary.since, summary.until) == (datetime.min.replace(tzinfo=UTC), until)


@pytest.mark.parametrize("limit", [0, 1_000_001])
async def test_a_per_minute_limit_is_between_one_and_a_million(app: FakeApp, limit: int) -> None:
    with pytest.raises(InvalidInputError) as refused:
        await make_widget(app, visitor_limit_per_minute=limit)
    assert refused.value.details == {"field": "visitor_limit_per_minute"}


@pytest.mark.parametrize("days", [0, -1, 3651])
async def test_a_retention_period_is_between_a_day_and_ten_years(app: FakeApp, days: int) -> None:
    with pytest.raises(InvalidInputError) as refused:
        await make_widget(app, retention_days=days)
    assert refused.value.details == {"field": "retention_days"}


def test_a_changes_body_takes_the_retention_period() -> None:
    changes = msgspec.json.decode(b'{"retention_days": 90}', type=WidgetChanges)
    assert changes.retention_days == 90  # type: ignore[attr-defined]
