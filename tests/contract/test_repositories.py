"""Contract of the persistence ports, held by the in-memory fakes and the asyncpg adapters."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta
from uuid import UUID

import msgspec
import pytest

from adapters.postgres.conversations import AsyncpgConversationRepository
from adapters.postgres.database import Database, create_pool
from adapters.postgres.documents import AsyncpgDocumentRepository
from adapters.postgres.exchanges import AsyncpgExchangeRepository
from adapters.postgres.jobs import AsyncpgJobQueue
from adapters.postgres.widgets import AsyncpgWidgetRepository
from application.paging import Position
from application.ports.storage import (
    ConversationFilter,
    Exchange,
    FeedbackFilter,
    VisitorTrace,
)
from domain.errors import DatabaseBusyError, DatabaseUnavailableError
from domain.models import (
    Conversation,
    ConversationOutcome,
    ConversationSummary,
    Document,
    DocumentStatus,
    FailedUsage,
    Feedback,
    FeedbackCounts,
    Message,
    MessageFeedback,
    ModelUsage,
    Plan,
    Progress,
    RatedAnswer,
    RatedMessage,
    Rating,
    Role,
    Source,
    Stage,
    Usage,
    UsageEvent,
    UsageGrouping,
    Widget,
    WidgetPosition,
)
from testkit.entities import EPOCH, a_document, a_widget
from tests.support.repositories import Repositories

# Widgets


async def test_a_widget_reads_back_as_added(repos: Repositories) -> None:
    widget = a_widget(allowed_origins=("https://a.example", "https://b.example:8443"))
    await repos.widgets.add(widget)

    assert await repos.widgets.get(widget.id) == widget
    assert await repos.widgets.get_by_public_key(widget.public_key) == widget


async def test_an_unknown_widget_is_none(repos: Repositories) -> None:
    await repos.widgets.add(a_widget())

    assert await repos.widgets.get(uuid.uuid4()) is None
    assert await repos.widgets.get_by_public_key("pk_unknown") is None


async def test_a_widget_update_persists_every_setting(repos: Repositories) -> None:
    widget = a_widget()
    await repos.widgets.add(widget)
    changed = a_widget(
        id=widget.id,
        tenant_id=widget.tenant_id,
        plan=Plan.PAID,
        name="Docs",
        public_key="pk_rotated",
        allowed_origins=("*",),
        system_prompt="Answer briefly.",
        no_answer_message="No idea.",
        top_k=12,
        limit_message="Easy there.",
        visitor_limit_per_minute=7,
        widget_limit_per_minute=70,
        models=("anthropic:claude-haiku-4-5", "extractive"),
        title="Ask Kettles",
        greeting="Hello — ask away.",
        placeholder="Your question",
        accent_color="#0a7d33",
        position=WidgetPosition.BOTTOM_LEFT,
        suggested_questions=("How long is the warranty?", "Ünïcode ☃?"),
        updated_at=EPOCH + timedelta(hours=1),
    )

    await repos.widgets.update(changed)

    assert await repos.widgets.get(widget.id) == changed
    assert await repos.widgets.get_by_public_key(widget.public_key) is None
    assert await repos.widgets.get_by_public_key("pk_rotated") == changed


async def test_updating_an_unknown_widget_adds_nothing(repos: Repositories) -> None:
    widget = a_widget()

    await repos.widgets.update(widget)

    assert await repos.widgets.get(widget.id) is None


async def test_a_deleted_widget_is_gone(repos: Repositories) -> None:
    widget, other = a_widget(), a_widget()
    await repos.widgets.add(widget)
    await repos.widgets.add(other)

    await repos.widgets.delete(widget.id)
    await repos.widgets.delete(uuid.uuid4())

    assert await repos.widgets.get(widget.id) is None
    assert await repos.widgets.get(other.id) == other


async def test_deleting_a_widget_deletes_its_documents_and_conversations(
    repos: Repositories,
) -> None:
    if repos.backend == "memory":
        pytest.skip("the fakes are separate stores with no cascade; use cases delete explicitly")
    widget, other = a_widget(), a_widget()
    await repos.widgets.add(widget)
    await repos.widgets.add(other)
    doomed, kept = a_document(widget.id), a_document(other.id)
    await repos.documents.add(doomed, b"hello")
    await repos.documents.add(kept, b"hello")
    conversation = Conversation(
        id=uuid.uuid4(), widget_id=widget.id, visitor_id=None, created_at=EPOCH
    )
    await save(repos, a_message(conversation, 1), opening=conversation)

    await repos.widgets.delete(widget.id)

    assert await repos.documents.get(doomed.id) is None
    assert await repos.documents.content(doomed.id) is None
    assert await repos.conversations.get(conversation.id) is None
    assert await repos.conversations.recent_messages(conversation.id, 5) == []
    assert await repos.documents.get(kept.id) == kept
    # Usage outlives its widget, for billing.
    summary = await repos.usage.summarize("acme", EPOCH, EPOCH + timedelta(hours=1))
    assert summary.messages == 1


# Documents


async def test_a_document_and_its_bytes_read_back_as_added(repos: Repositories) -> None:
    widget = a_widget()
    await repos.widgets.add(widget)
    document = a_document(widget.id, b"\x00binary\xff", source_url="https://example.com/faq")

    await repos.documents.add(document, b"\x00binary\xff")

    assert await repos.documents.get(document.id) == document
    assert await repos.documents.content(document.id) == b"\x00binary\xff"
    assert await repos.documents.find_by_hash(widget.id, document.sha256) == document


async def test_many_documents_are_read_at_once(repos: Repositories) -> None:
    widget = await a_listed_widget(repos)
    first = a_document(widget.id, b"one", created_at=EPOCH)
    second = a_document(widget.id, b"two", created_at=EPOCH + timedelta(seconds=1))
    for document in (second, first):
        await repos.documents.add(document, b"x")

    found = await repos.documents.get_many([second.id, uuid.uuid4(), first.id, first.id])

    assert found == [first, second]
    assert await repos.documents.get_many([]) == []


async def test_an_unknown_document_is_none(repos: Repositories) -> None:
    widget = a_widget()
    await repos.widgets.add(widget)
    await repos.documents.add(a_document(widget.id), b"hello")

    assert await repos.documents.get(uuid.uuid4()) is None
    assert await repos.documents.content(uuid.uuid4()) is None
    assert await repos.documents.find_by_hash(widget.id, "0" * 64) is None
    assert await repos.documents.list_for_widget(uuid.uuid4()) == []


async def test_the_same_content_is_one_document_per_widget(repos: Repositories) -> None:
    widget, other = a_widget(), a_widget()
    await repos.widgets.add(widget)
    await repos.widgets.add(other)
    first = a_document(widget.id, title="first")
    again = a_document(widget.id, title="again")
    elsewhere = a_document(other.id)

    assert await repos.documents.add(first, b"hello") == first
    assert await repos.documents.add(again, b"hello") == first
    assert await repos.documents.add(elsewhere, b"hello") == elsewhere

    assert await repos.documents.get(again.id) is None
    assert await repos.documents.content(again.id) is None
    assert await repos.documents.find_by_hash(widget.id, first.sha256) == first
    assert await repos.documents.find_by_hash(other.id, first.sha256) == elsewhere


async def test_documents_are_listed_per_widget_oldest_first(repos: Repositories) -> None:
    widget, other = a_widget(), a_widget()
    await repos.widgets.add(widget)
    await repos.widgets.add(other)
    later = a_document(widget.id, b"b", created_at=EPOCH + timedelta(minutes=1))
    tie_ids = sorted([uuid.uuid4(), uuid.uuid4()])
    tied_second = a_document(widget.id, b"c", id=tie_ids[1])
    tied_first = a_document(widget.id, b"d", id=tie_ids[0])
    for document in (later, tied_second, tied_first):
        await repos.documents.add(document, b"x")
    await repos.documents.add(a_document(other.id, b"e"), b"x")

    listed = await repos.documents.list_for_widget(widget.id)

    assert listed == [tied_first, tied_second, later]


async def test_a_document_update_persists_its_progress(repos: Repositories) -> None:
    widget = a_widget()
    await repos.widgets.add(widget)
    document = a_document(widget.id)
    await repos.documents.add(document, b"hello")
    processing = msgspec.structs.replace(
        document,
        status=DocumentStatus.PROCESSING,
        stage=Stage.EMBEDDING,
        progress=Progress(3, 10),
        chunk_count=10,
        updated_at=EPOCH + timedelta(seconds=5),
    )

    await repos.documents.update(processing)
    assert await repos.documents.get(document.id) == processing

    failed = msgspec.structs.replace(
        processing, status=DocumentStatus.FAILED, stage=None, error="could not parse page 3"
    )
    await repos.documents.update(failed)
    assert await repos.documents.get(document.id) == failed
    assert await repos.documents.content(document.id) == b"hello"


async def test_updating_an_unknown_document_adds_nothing(repos: Repositories) -> None:
    widget = a_widget()
    await repos.widgets.add(widget)
    document = a_document(widget.id)

    await repos.documents.update(document)

    assert await repos.documents.get(document.id) is None


async def test_a_deleted_document_and_its_bytes_are_gone(repos: Repositories) -> None:
    widget = a_widget()
    await repos.widgets.add(widget)
    document, other = a_document(widget.id, b"a"), a_document(widget.id, b"b")
    await repos.documents.add(document, b"a")
    await repos.documents.add(other, b"b")

    await repos.documents.delete(document.id)
    await repos.documents.delete(uuid.uuid4())

    assert await repos.documents.get(document.id) is None
    assert await repos.documents.content(document.id) is None
    assert await repos.documents.find_by_hash(widget.id, document.sha256) is None
    assert await repos.documents.list_for_widget(widget.id) == [other]


# Conversations


async def a_conversation(repos: Repositories, visitor_id: str | None = "v-1") -> Conversation:
    """A conversation of a new widget, not saved: the first turn saved with it opens it."""
    widget = a_widget()
    await repos.widgets.add(widget)
    return Conversation(
        id=uuid.uuid4(), widget_id=widget.id, visitor_id=visitor_id, created_at=EPOCH
    )


async def save(
    repos: Repositories,
    *messages: Message,
    opening: Conversation | None = None,
    usage: UsageEvent | None = None,
) -> None:
    """Saves a turn of these messages, as the chat does: opening its conversation, if given,
    and billed `usage` (by default, an event of tenant "acme" at EPOCH)."""
    conversation_id = messages[0].conversation_id
    if usage is None:
        usage = an_event(
            "acme", "extractive", 0, 1, 1, 0.0,
            conversation_id=conversation_id, message_id=messages[-1].id,
        )  # fmt: skip
    await repos.turns.save(Exchange(new_conversation=opening, messages=messages, usage=usage))


def a_message(
    conversation: Conversation, seconds: float, role: Role = Role.USER, **overrides: object
) -> Message:
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "conversation_id": conversation.id,
        "role": role,
        "content": f"said at {seconds}s",
        "created_at": EPOCH + timedelta(seconds=seconds),
    }
    return Message(**(fields | overrides))  # type: ignore[arg-type]


async def test_a_conversation_reads_back_and_is_opened_once(repos: Repositories) -> None:
    conversation = await a_conversation(repos)
    await save(repos, a_message(conversation, 1), opening=conversation)

    # A turn that believes it opens the conversation again (say, a visitor's retried first
    # question) adds its messages and leaves the conversation as it was.
    again = msgspec.structs.replace(
        conversation, visitor_id="other", created_at=EPOCH + timedelta(days=1)
    )
    await save(repos, a_message(conversation, 2), opening=again)

    assert await repos.conversations.get(conversation.id) == conversation
    assert len(await repos.conversations.recent_messages(conversation.id, 5)) == 2
    assert await repos.conversations.get(uuid.uuid4()) is None


async def test_recent_messages_are_the_last_n_oldest_first(repos: Repositories) -> None:
    conversation = await a_conversation(repos)
    elsewhere = await a_conversation(repos)
    m1, m2, m3, m4 = (a_message(conversation, s) for s in (1, 2, 3, 4))
    await save(repos, m1, m2, opening=conversation)
    await save(repos, m4, m3)  # saved out of order
    await save(repos, a_message(elsewhere, 5), opening=elsewhere)

    assert await repos.conversations.recent_messages(conversation.id, 3) == [m2, m3, m4]
    assert await repos.conversations.recent_messages(conversation.id, 10) == [m1, m2, m3, m4]
    assert await repos.conversations.recent_messages(conversation.id, 0) == []
    assert await repos.conversations.recent_messages(uuid.uuid4(), 5) == []


async def test_messages_of_the_same_instant_keep_the_order_they_were_saved(
    repos: Repositories,
) -> None:
    conversation = await a_conversation(repos)
    question = a_message(conversation, 1, Role.USER)
    answer = a_message(conversation, 1, Role.ASSISTANT)

    await save(repos, question, answer, opening=conversation)

    assert await repos.conversations.recent_messages(conversation.id, 2) == [question, answer]
    assert await repos.conversations.recent_messages(conversation.id, 1) == [answer]


async def test_an_answer_keeps_its_sources_usage_and_model(repos: Repositories) -> None:
    conversation = await a_conversation(repos)
    sources = (
        Source(
            index=1,
            document_id=uuid.uuid4(),
            title="Returns",
            snippet='30 days, "full"',
            score=0.8125,
            page=3,
            section="Refunds",
        ),
        Source(
            index=2,
            document_id=uuid.uuid4(),
            title="Ünïcode ☃",
            snippet="",
            score=0.5,
            url="https://example.com/faq?q=1",
        ),
    )
    answer = a_message(
        conversation,
        2,
        Role.ASSISTANT,
        model="openai:gpt-4o-mini",
        sources=sources,
        usage=Usage(input_tokens=812, output_tokens=64, cost_usd=0.00016020),
        finish_reason="stop",
    )

    await save(repos, a_message(conversation, 1), answer, opening=conversation)

    assert (await repos.conversations.recent_messages(conversation.id, 1)) == [answer]


# Usage


def an_event(
    tenant_id: str,
    model: str,
    minutes: float,
    input_tokens: int,
    output_tokens: int,
    cost_usd: float,
    **overrides: object,
) -> UsageEvent:
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "tenant_id": tenant_id,
        "widget_id": uuid.uuid4(),
        "conversation_id": uuid.uuid4(),
        "message_id": uuid.uuid4(),
        "plan": Plan.FREE,
        "model": model,
        "usage": Usage(input_tokens, output_tokens, cost_usd),
        "created_at": EPOCH + timedelta(minutes=minutes),
    }
    return UsageEvent(**(fields | overrides))  # type: ignore[arg-type]


async def bill(repos: Repositories, event: UsageEvent) -> None:
    """Saves the turn this event bills: its conversation and answer are new, and its widget
    too unless an earlier event made it."""
    widget = await repos.widgets.get(event.widget_id)
    if widget is None:
        widget = a_widget(id=event.widget_id, tenant_id=event.tenant_id)
        await repos.widgets.add(widget)
    conversation = Conversation(
        id=event.conversation_id, widget_id=widget.id, visitor_id=None, created_at=event.created_at
    )
    answer = Message(
        id=event.message_id,
        conversation_id=conversation.id,
        role=Role.ASSISTANT,
        content="answered",
        created_at=event.created_at,
        model=event.model,
        usage=event.usage,
    )
    await save(repos, answer, opening=conversation, usage=event)


async def test_usage_is_summed_per_tenant_and_period_and_model(repos: Repositories) -> None:
    # Upper case sorts before lower case here, as in Python, whatever the database collation.
    qwen, mini = "openai:Qwen/Qwen2.5-7B-Instruct", "openai:gpt-4o-mini"
    for event in (
        an_event("acme", mini, 0, 100, 10, 0.000021),  # since is inclusive
        an_event("acme", mini, 30, 200, 20, 0.000042, cached=True),
        an_event("acme", qwen, 59, 1000, 100, 0.5),
        an_event("acme", mini, 60, 5000, 500, 1.0),  # until is exclusive
        an_event("acme", mini, -1, 5000, 500, 1.0),
        an_event("other", mini, 10, 5000, 500, 1.0),
    ):
        await bill(repos, event)

    summary = await repos.usage.summarize("acme", EPOCH, EPOCH + timedelta(hours=1))

    assert (summary.tenant_id, summary.since, summary.until) == (
        "acme",
        EPOCH,
        EPOCH + timedelta(hours=1),
    )
    assert (summary.messages, summary.input_tokens, summary.output_tokens) == (3, 1300, 130)
    assert summary.cost_usd == pytest.approx(0.500063)
    assert summary.by_model == (
        ModelUsage(model=qwen, messages=1, input_tokens=1000, output_tokens=100, cost_usd=0.5),
        ModelUsage(
            model=mini,
            messages=2,
            input_tokens=300,
            output_tokens=30,
            cost_usd=pytest.approx(0.000063),
        ),
    )


async def test_usage_of_an_empty_period_is_zero(repos: Repositories) -> None:
    await bill(repos, an_event("acme", "extractive", 0, 1, 1, 0.0))

    summary = await repos.usage.summarize(
        "acme", EPOCH + timedelta(days=1), EPOCH + timedelta(days=2)
    )

    assert (summary.messages, summary.input_tokens, summary.output_tokens) == (0, 0, 0)
    assert summary.cost_usd == 0
    assert summary.by_model == ()


async def test_a_usage_event_saved_twice_counts_once(repos: Repositories) -> None:
    event = an_event("acme", "openai:gpt-4o", 1, 10, 10, 0.0001)
    await bill(repos, event)
    conversation = await repos.conversations.get(event.conversation_id)
    assert conversation is not None

    await save(repos, a_message(conversation, 120), usage=event)

    summary = await repos.usage.summarize("acme", EPOCH, EPOCH + timedelta(hours=1))
    assert (summary.messages, summary.input_tokens) == (1, 10)
    assert len(await repos.conversations.recent_messages(conversation.id, 5)) == 2


async def test_failed_answers_are_counted_apart_and_never_billed(repos: Repositories) -> None:
    mini = "openai:gpt-4o-mini"
    await bill(repos, an_event("acme", mini, 1, 100, 10, 0.25))
    # Broke off mid-answer: what the provider spent is reported, not billed.
    await bill(repos, an_event("acme", mini, 2, 50, 5, 0.125, failed=True))
    await bill(repos, an_event("acme", "extractive", 3, 0, 0, 0.0, failed=True))

    summary = await repos.usage.summarize("acme", EPOCH, EPOCH + timedelta(hours=1))

    assert (summary.messages, summary.input_tokens, summary.cost_usd) == (1, 100, 0.25)
    assert summary.failed == FailedUsage(
        messages=2, input_tokens=50, output_tokens=5, cost_usd=0.125
    )
    assert [(m.model, m.messages) for m in summary.by_model] == [(mini, 1)]
    assert [(g.key, g.messages, g.failed) for g in summary.groups] == [
        ("extractive", 0, 1),
        (mini, 1, 1),
    ]


@pytest.mark.parametrize("group_by", list(UsageGrouping))
async def test_the_totals_of_a_period_are_the_sum_of_its_groups(
    repos: Repositories, group_by: UsageGrouping
) -> None:
    widgets = [uuid.uuid4(), uuid.uuid4()]
    models = ["openai:gpt-4o-mini", "anthropic:claude-sonnet-5-5", "extractive"]
    # Three days of varied usage, some failed, around a period that cuts days in half.
    for n in range(60):
        await bill(
            repos,
            an_event(
                "acme",
                models[n % 3],
                n * 71.0,  # minutes: spans about three days
                100 + n,
                10 + n % 7,
                round(0.000137 * (n + 1), 8),
                widget_id=widgets[n % 2],
                failed=n % 11 == 0,
            ),
        )
    since, until = EPOCH + timedelta(hours=7), EPOCH + timedelta(days=2, hours=13)

    summary = await repos.usage.summarize("acme", since, until, group_by=group_by)
    expected_keys = {
        UsageGrouping.DAY: ["2026-01-01", "2026-01-02", "2026-01-03"],
        UsageGrouping.WIDGET: sorted(str(w) for w in widgets),
        UsageGrouping.MODEL: sorted(models),
    }[group_by]

    assert summary.group_by is group_by
    assert [g.key for g in summary.groups] == expected_keys
    assert summary.messages == sum(g.messages for g in summary.groups) > 0
    assert summary.input_tokens == sum(g.input_tokens for g in summary.groups)
    assert summary.output_tokens == sum(g.output_tokens for g in summary.groups)
    assert summary.cost_usd == pytest.approx(sum(g.cost_usd for g in summary.groups), abs=1e-9)
    assert summary.failed.messages == sum(g.failed for g in summary.groups) > 0
    # And the groups are the events of the period, nothing more.
    in_period = [n for n in range(60) if since <= EPOCH + timedelta(minutes=n * 71.0) < until]
    assert summary.messages + summary.failed.messages == len(in_period)
    assert summary.input_tokens == sum(100 + n for n in in_period if n % 11)


async def test_usage_of_one_widget(repos: Repositories) -> None:
    mine, other = uuid.uuid4(), uuid.uuid4()
    await bill(repos, an_event("acme", "extractive", 1, 7, 1, 0.0, widget_id=mine))
    await bill(repos, an_event("acme", "extractive", 2, 100, 1, 0.0, widget_id=other))

    summary = await repos.usage.summarize(
        "acme", EPOCH, EPOCH + timedelta(hours=1), widget_id=mine, group_by=UsageGrouping.WIDGET
    )

    assert (summary.widget_id, summary.messages, summary.input_tokens) == (mine, 1, 7)
    assert [g.key for g in summary.groups] == [str(mine)]


# Chat turns


async def test_a_turn_that_opens_a_conversation_saves_it_its_messages_and_usage(
    repos: Repositories,
) -> None:
    widget = a_widget()
    await repos.widgets.add(widget)
    conversation = Conversation(
        id=uuid.uuid4(), widget_id=widget.id, visitor_id=None, created_at=EPOCH
    )
    # The same instant for both: their order is the order of the turn.
    question = a_message(conversation, 1, Role.USER)
    answer = a_message(
        conversation,
        1,
        Role.ASSISTANT,
        model="openai:gpt-4o-mini",
        sources=(Source(index=1, document_id=uuid.uuid4(), title="T", snippet="s", score=0.5),),
        usage=Usage(input_tokens=900, output_tokens=9, cost_usd=0.000141),
        finish_reason="stop",
    )
    event = an_event(
        widget.tenant_id, "openai:gpt-4o-mini", 0, 900, 9, 0.000141,
        widget_id=widget.id, conversation_id=conversation.id, message_id=answer.id,
    )  # fmt: skip

    await repos.turns.save(
        Exchange(new_conversation=conversation, messages=(question, answer), usage=event)
    )

    assert await repos.conversations.get(conversation.id) == conversation
    assert await repos.conversations.recent_messages(conversation.id, 5) == [question, answer]
    summary = await repos.usage.summarize(widget.tenant_id, EPOCH, EPOCH + timedelta(hours=1))
    assert (summary.messages, summary.input_tokens, summary.output_tokens) == (1, 900, 9)


async def test_a_follow_up_turn_adds_to_its_conversation(repos: Repositories) -> None:
    conversation = await a_conversation(repos)
    first = (a_message(conversation, 1), a_message(conversation, 2, Role.ASSISTANT))
    later = (a_message(conversation, 3), a_message(conversation, 4, Role.ASSISTANT))
    await save(repos, *first, opening=conversation)

    event = an_event("acme", "extractive", 0, 1, 1, 0.0, conversation_id=conversation.id)
    await repos.turns.save(Exchange(new_conversation=None, messages=later, usage=event))

    assert await repos.conversations.get(conversation.id) == conversation
    assert await repos.conversations.recent_messages(conversation.id, 10) == [*first, *later]
    summary = await repos.usage.summarize("acme", EPOCH, EPOCH + timedelta(hours=1))
    assert summary.messages == 2


async def test_a_turn_without_messages_is_refused(repos: Repositories) -> None:
    conversation = await a_conversation(repos)
    event = an_event("acme", "extractive", 0, 1, 1, 0.0, conversation_id=conversation.id)

    with pytest.raises(ValueError, match="at least one message"):
        await repos.turns.save(Exchange(new_conversation=conversation, messages=(), usage=event))

    assert await repos.conversations.get(conversation.id) is None


async def test_a_turn_that_cannot_be_saved_whole_saves_nothing(repos: Repositories) -> None:
    saved = await a_conversation(repos)
    taken = a_message(saved, 1)
    await save(repos, taken, opening=saved)
    widget = a_widget()
    await repos.widgets.add(widget)
    conversation = Conversation(
        id=uuid.uuid4(), widget_id=widget.id, visitor_id="v", created_at=EPOCH
    )
    # Its answer reuses a saved message's id: the database refuses it, and with it the turn.
    clash = msgspec.structs.replace(a_message(conversation, 2, Role.ASSISTANT), id=taken.id)
    event = an_event("acme", "extractive", 0, 1, 1, 0.0, conversation_id=conversation.id)

    with pytest.raises(Exception):  # noqa: B017 - each backend has its own error
        await repos.turns.save(
            Exchange(
                new_conversation=conversation,
                messages=(a_message(conversation, 1), clash),
                usage=event,
            )
        )

    assert await repos.conversations.get(conversation.id) is None
    assert await repos.conversations.recent_messages(conversation.id, 5) == []
    summary = await repos.usage.summarize("acme", EPOCH, EPOCH + timedelta(hours=1))
    assert summary.messages == 1  # the first turn's alone


# The owner's side: widgets by tenant, conversations listed, read, exported, erased, purged


async def test_widgets_of_a_tenant_come_a_page_at_a_time_oldest_first(
    repos: Repositories,
) -> None:
    # Two share an instant: the id breaks the tie, so the order is total and pages exact.
    moments = (3, 1, 2, 2, 5)
    mine = [a_widget(tenant_id="acme", created_at=EPOCH + timedelta(hours=h)) for h in moments]
    for widget in [*mine, a_widget(tenant_id="other")]:
        await repos.widgets.add(widget)
    expected = sorted(mine, key=lambda w: (w.created_at, w.id))

    pages, after = [], None
    while True:
        page = await repos.widgets.list_for_tenant("acme", after, 2)
        pages.append(page)
        if len(page) < 2:
            break
        after = Position(page[-1].created_at, page[-1].id)

    assert [len(p) for p in pages] == [2, 2, 1]
    assert [w for p in pages for w in p] == expected
    assert await repos.widgets.list_for_tenant("nobody", None, 10) == []


async def a_talk(
    repos: Repositories,
    widget: Widget,
    hours: float,
    *answers: Message,
    visitor_id: str | None = "v-1",
    question: str = "Where is my order?",
) -> Conversation:
    """A conversation started `hours` after EPOCH: a question before each answer given (with
    no answer, the question alone), saved in one exchange as the chat saves them."""
    conversation = Conversation(
        id=uuid.uuid4(),
        widget_id=widget.id,
        visitor_id=visitor_id,
        created_at=EPOCH + timedelta(hours=hours),
    )
    messages: list[Message] = []
    for n, answer in enumerate(answers or (None,)):
        at = conversation.created_at + timedelta(minutes=n)
        messages.append(
            a_message(
                conversation, 0, content=f"{question} ({n})" if n else question, created_at=at
            )
        )
        if answer is not None:
            messages.append(
                msgspec.structs.replace(
                    answer, id=uuid.uuid4(), conversation_id=conversation.id, created_at=at
                )
            )
    usage = an_event(
        widget.tenant_id, "extractive", 0, 0, 0, 0.0,
        widget_id=widget.id, conversation_id=conversation.id, message_id=messages[-1].id,
        created_at=conversation.created_at,
    )  # fmt: skip
    await save(repos, *messages, opening=conversation, usage=usage)
    return conversation


def an_answer(content: str = "It ships today [1].", **overrides: object) -> Message:
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "conversation_id": uuid.uuid4(),  # replaced by a_talk
        "role": Role.ASSISTANT,
        "content": content,
        "created_at": EPOCH,
        "model": "extractive",
        "finish_reason": "stop",
    }
    return Message(**(fields | overrides))  # type: ignore[arg-type]


async def a_listed_widget(repos: Repositories, **overrides: object) -> Widget:
    widget = a_widget(**overrides)
    await repos.widgets.add(widget)
    return widget


async def test_conversations_are_listed_newest_first_with_their_summary(
    repos: Repositories,
) -> None:
    widget = await a_listed_widget(repos)
    older = await a_talk(repos, widget, 1, an_answer(), an_answer(), question="Hello?")
    newer = await a_talk(repos, widget, 2, an_answer(), visitor_id=None)
    silent = await a_talk(repos, widget, 3)  # a question, not answered (yet)
    await a_talk(repos, await a_listed_widget(repos), 4, an_answer())

    listed = await repos.conversations.list_for_widget(widget.id, ConversationFilter(), None, 10)

    assert [c.id for c in listed] == [silent.id, newer.id, older.id]
    assert listed[2] == ConversationSummary(
        id=older.id,
        widget_id=widget.id,
        visitor_id="v-1",
        created_at=older.created_at,
        first_question="Hello?",
        message_count=4,
        last_activity=older.created_at + timedelta(minutes=1),
        feedback=FeedbackCounts(up=0, down=0),
    )
    assert (listed[1].visitor_id, listed[1].message_count) == (None, 2)
    assert (listed[0].first_question, listed[0].message_count) == ("Where is my order?", 1)
    assert listed[0].last_activity == silent.created_at


async def test_conversations_page_after_a_position_even_within_one_instant(
    repos: Repositories,
) -> None:
    widget = await a_listed_widget(repos)
    talks = [await a_talk(repos, widget, h, an_answer()) for h in (1, 2, 2, 2, 3)]
    expected = sorted(talks, key=lambda c: (c.created_at, c.id), reverse=True)

    first = await repos.conversations.list_for_widget(widget.id, ConversationFilter(), None, 2)
    after = Position(first[-1].created_at, first[-1].id)
    second = await repos.conversations.list_for_widget(widget.id, ConversationFilter(), after, 10)

    assert [c.id for c in [*first, *second]] == [c.id for c in expected]


async def test_conversations_are_filtered_by_period_and_outcome(repos: Repositories) -> None:
    widget = await a_listed_widget(repos, no_answer_message="Sorry, no idea.")
    plain = await a_talk(repos, widget, 1, an_answer())
    found_nothing = await a_talk(
        repos, widget, 2, an_answer(), an_answer("Sorry, no idea.", finish_reason="no_answer")
    )
    # A model that found nothing in its sources says the no-answer message in its own words
    # only when told to: the exact message (give or take blanks) counts as one.
    model_said_so = await a_talk(repos, widget, 3, an_answer(" Sorry, no idea.\n"))
    failed = await a_talk(repos, widget, 4, an_answer("", finish_reason="error"))

    async def listed(**where: object) -> list[UUID]:
        found = await repos.conversations.list_for_widget(
            widget.id, ConversationFilter(no_answer_message="Sorry, no idea.", **where), None, 10
        )
        return [c.id for c in found]

    assert await listed(outcome=ConversationOutcome.NO_ANSWER) == [
        model_said_so.id,
        found_nothing.id,
    ]
    assert await listed(outcome=ConversationOutcome.FAILED) == [failed.id]
    assert await listed(since=EPOCH + timedelta(hours=2), until=EPOCH + timedelta(hours=4)) == [
        model_said_so.id,
        found_nothing.id,
    ]  # since inclusive, until exclusive
    assert await listed(until=EPOCH + timedelta(hours=2)) == [plain.id]


async def test_a_conversation_reads_back_in_full(repos: Repositories) -> None:
    widget = await a_listed_widget(repos)
    sources = (Source(index=1, document_id=uuid.uuid4(), title="FAQ", snippet="s", score=0.5),)
    answer = an_answer(
        sources=sources,
        model="openai:gpt-4o-mini",
        usage=Usage(input_tokens=900, output_tokens=9, cost_usd=0.000141),
    )
    talk = await a_talk(repos, widget, 1, answer, an_answer("Bye."))

    detail = await repos.conversations.detail(talk.id)

    assert detail is not None
    assert (detail.id, detail.widget_id, detail.visitor_id, detail.created_at) == (
        talk.id, widget.id, "v-1", talk.created_at,
    )  # fmt: skip
    assert [m.role for m in detail.messages] == [Role.USER, Role.ASSISTANT] * 2
    kept = msgspec.structs.replace(
        answer, id=detail.messages[1].id, conversation_id=talk.id, created_at=talk.created_at
    )
    assert detail.messages[1] == RatedMessage(**msgspec.structs.asdict(kept), feedback=None)
    assert await repos.conversations.detail(uuid.uuid4()) is None


async def test_an_export_holds_the_widgets_messages_of_the_period_in_order(
    repos: Repositories,
) -> None:
    widget = await a_listed_widget(repos)
    late = await a_talk(repos, widget, 5, an_answer(), visitor_id="v-late")
    early = await a_talk(repos, widget, 1, an_answer(), an_answer())
    await a_talk(repos, await a_listed_widget(repos), 2, an_answer())

    async def exported(**period: object) -> list[tuple[str | None, UUID, Role]]:
        rows = repos.conversations.export(widget.id, period.get("since"), period.get("until"))  # type: ignore[arg-type]
        return [(r.visitor_id, r.message.conversation_id, r.message.role) async for r in rows]

    assert await exported() == [
        ("v-1", early.id, Role.USER),
        ("v-1", early.id, Role.ASSISTANT),
        ("v-1", early.id, Role.USER),
        ("v-1", early.id, Role.ASSISTANT),
        ("v-late", late.id, Role.USER),
        ("v-late", late.id, Role.ASSISTANT),
    ]
    # Messages of the period: the second exchange of the early one began a minute later.
    assert await exported(since=EPOCH + timedelta(hours=1, minutes=1)) == [
        ("v-1", early.id, Role.USER),
        ("v-1", early.id, Role.ASSISTANT),
        ("v-late", late.id, Role.USER),
        ("v-late", late.id, Role.ASSISTANT),
    ]
    assert await exported(until=EPOCH + timedelta(hours=1)) == []


async def test_unanswered_questions_are_the_ones_the_no_answer_message_followed(
    repos: Repositories,
) -> None:
    widget = await a_listed_widget(repos, no_answer_message="No idea.")
    no = an_answer("No idea.", finish_reason="no_answer")
    await a_talk(repos, widget, 1, no, question="Do you ship to Mars?")
    await a_talk(repos, widget, 2, an_answer(), an_answer("No idea."), question="Gift wrap?")
    await a_talk(repos, widget, 3, an_answer("", finish_reason="error"), question="Failed?")
    await a_talk(repos, await a_listed_widget(repos), 4, no, question="Elsewhere?")

    where = ConversationFilter(no_answer_message="No idea.")
    asked = await repos.conversations.unanswered_questions(widget.id, where, 10)

    assert [q.text for q in asked] == ["Gift wrap? (1)", "Do you ship to Mars?"]
    assert asked[0].asked_at == EPOCH + timedelta(hours=2, minutes=1)
    assert [
        q.text for q in await repos.conversations.unanswered_questions(widget.id, where, 1)
    ] == ["Gift wrap? (1)"]
    later = msgspec.structs.replace(where, since=EPOCH + timedelta(hours=1, minutes=30))
    assert [
        q.text for q in await repos.conversations.unanswered_questions(widget.id, later, 10)
    ] == ["Gift wrap? (1)"]


async def test_erasing_a_visitor_removes_their_conversations_and_unlinks_their_usage(
    repos: Repositories,
) -> None:
    widget, elsewhere = await a_listed_widget(repos), await a_listed_widget(repos)
    theirs = [
        await a_talk(repos, widget, h, an_answer(), visitor_id="v-9", question=f"Mine {h}?")
        for h in (1, 2)
    ]
    kept = await a_talk(repos, widget, 3, an_answer(), visitor_id="v-other")
    same_visitor_elsewhere = await a_talk(repos, elsewhere, 4, an_answer(), visitor_id="v-9")
    for talk in (*theirs, kept):
        answer = a_message(talk, 2 * 3600, Role.ASSISTANT)
        billed = an_event(
            widget.tenant_id, "extractive", 0, 10, 2, 0.5,
            widget_id=widget.id, conversation_id=talk.id, message_id=answer.id,
        )  # fmt: skip
        await save(repos, answer, usage=billed)

    trace = await repos.conversations.trace_of_visitor(widget.id, "v-9")
    assert sorted(trace.conversation_ids) == sorted(t.id for t in theirs)
    assert sorted(trace.questions) == ["Mine 1?", "Mine 2?"]

    assert await repos.conversations.erase_visitor(widget.id, "v-9") == 2

    for talk in theirs:
        assert await repos.conversations.get(talk.id) is None
        assert await repos.conversations.recent_messages(talk.id, 10) == []
    assert await repos.conversations.trace_of_visitor(widget.id, "v-9") == VisitorTrace(
        conversation_ids=(), questions=()
    )
    assert await repos.conversations.get(kept.id) == kept
    assert await repos.conversations.get(same_visitor_elsewhere.id) == same_visitor_elsewhere
    # Usage keeps what was spent: the same totals, now without the erased conversations.
    summary = await repos.usage.summarize(widget.tenant_id, EPOCH, EPOCH + timedelta(hours=1))
    assert (summary.messages, summary.input_tokens, summary.cost_usd) == (3, 30, 1.5)
    assert await repos.conversations.erase_visitor(widget.id, "v-9") == 0


@pytest.mark.integration
async def test_erased_usage_keeps_no_link_to_the_visitor(pg_database: Database) -> None:
    """What the fake cannot show: the rows themselves, in the database."""
    conversations = AsyncpgConversationRepository(pg_database)
    widget = a_widget()
    await AsyncpgWidgetRepository(pg_database).add(widget)
    talk = Conversation(id=uuid.uuid4(), widget_id=widget.id, visitor_id="v-9", created_at=EPOCH)
    answer = a_message(talk, 1, Role.ASSISTANT)
    event = an_event(
        widget.tenant_id, "extractive", 0, 10, 2, 0.5,
        widget_id=widget.id, conversation_id=talk.id, message_id=answer.id,
    )  # fmt: skip
    await AsyncpgExchangeRepository(pg_database).save(
        Exchange(new_conversation=talk, messages=(a_message(talk, 0), answer), usage=event)
    )

    await conversations.erase_visitor(widget.id, "v-9")

    async with pg_database.connection() as connection:
        row = await connection.fetchrow("SELECT * FROM usage_events WHERE id = $1", event.id)
        messages = await connection.fetchval("SELECT count(*) FROM messages")
    assert (row["conversation_id"], row["message_id"]) == (None, None)
    assert (row["widget_id"], row["input_tokens"], float(row["cost_usd"])) == (widget.id, 10, 0.5)
    assert messages == 0


async def test_conversations_idle_past_their_widgets_retention_are_purged(
    repos: Repositories,
) -> None:
    kept_30 = await a_listed_widget(repos, retention_days=30)
    forever = await a_listed_widget(repos)
    now = EPOCH + timedelta(days=100)
    # Started 100 days ago, last active 69 days ago: idle past 30 days.
    idle = await a_talk(repos, kept_30, 0, an_answer())
    await save(repos, a_message(idle, 31 * 86400, content="Still there?"))
    # Started long ago, but active 5 days ago: kept.
    active = await a_talk(repos, kept_30, 0, an_answer())
    await save(repos, a_message(active, 95 * 86400))
    young = await a_talk(repos, kept_30, 24 * 80, an_answer())  # started 20 days ago
    empty = await a_talk(repos, kept_30, 0)  # a question, never answered
    old_but_kept = await a_talk(repos, forever, 0, an_answer())

    first = await repos.conversations.purge_idle(now, 1)
    rest = await repos.conversations.purge_idle(now, 10)

    assert len(first) == 1
    assert sorted([*first, *rest]) == sorted([idle.id, empty.id])
    for gone in (idle, empty):
        assert await repos.conversations.get(gone.id) is None
        assert await repos.conversations.recent_messages(gone.id, 10) == []
    for talk in (active, young, old_but_kept):
        assert await repos.conversations.get(talk.id) == talk
    assert await repos.conversations.purge_idle(now, 10) == []


# Transactions, and the database's failures at the edge: the asyncpg adapter only, since
# FakeTransactions has nothing to roll back.

integration = pytest.mark.integration


async def a_document_to_queue(
    database: Database,
) -> tuple[AsyncpgDocumentRepository, AsyncpgJobQueue, Document]:
    """A new widget's document, not stored yet, and where it and its job go."""
    widget = a_widget()
    await AsyncpgWidgetRepository(database).add(widget)
    return AsyncpgDocumentRepository(database), AsyncpgJobQueue(database), a_document(widget.id)


@integration
async def test_a_failure_inside_a_transaction_rolls_back_the_document_and_its_job(
    pg_database: Database,
) -> None:
    documents, jobs, document = await a_document_to_queue(pg_database)

    with pytest.raises(RuntimeError, match="boom"):
        async with pg_database.begin():
            await documents.add(document, b"hello")
            await jobs.enqueue(document.id)
            assert await documents.get(document.id) == document  # the transaction sees it
            raise RuntimeError("boom")

    assert await documents.get(document.id) is None
    assert await documents.content(document.id) is None
    assert await jobs.claim() is None


@integration
async def test_a_transaction_commits_everything_at_its_end(pg_database: Database) -> None:
    documents, jobs, document = await a_document_to_queue(pg_database)
    outside = Database(pg_database.pool)  # another task's view: no transaction of its own

    async with pg_database.begin():
        await documents.add(document, b"hello")
        await jobs.enqueue(document.id)
        assert await AsyncpgDocumentRepository(outside).get(document.id) is None

    assert await AsyncpgDocumentRepository(outside).get(document.id) == document
    claimed = await jobs.claim()
    assert claimed is not None and claimed.document_id == document.id


@integration
async def test_a_nested_transaction_is_a_savepoint(pg_database: Database) -> None:
    widgets = AsyncpgWidgetRepository(pg_database)
    kept, undone = a_widget(), a_widget()

    async with pg_database.begin():
        await widgets.add(kept)
        with pytest.raises(RuntimeError):
            async with pg_database.begin():
                await widgets.add(undone)
                raise RuntimeError("inner")

    assert await widgets.get(kept.id) == kept
    assert await widgets.get(undone.id) is None


@integration
async def test_errors_of_the_block_are_not_mistaken_for_the_database(
    pg_database: Database,
) -> None:
    with pytest.raises(TimeoutError):
        async with pg_database.begin():
            raise TimeoutError("a slow vector store")


@integration
async def test_an_unreachable_database_fails_fast_as_unavailable() -> None:
    started = time.perf_counter()

    with pytest.raises(DatabaseUnavailableError) as raised:
        await create_pool("postgresql://postgres@127.0.0.1:1/nothing", connect_timeout=2)

    assert time.perf_counter() - started < 2.5
    assert isinstance(raised.value.__cause__, OSError)


@integration
async def test_a_connection_lost_mid_query_is_unavailable_and_the_pool_recovers(
    postgres_url: str, pg_database: Database
) -> None:
    pool = await create_pool(postgres_url, min_size=1, max_size=1)
    database = Database(pool)
    try:
        async with database.connection() as connection:
            backend_pid = connection.get_server_pid()

        async def terminate_soon() -> None:
            await asyncio.sleep(0.2)
            await pg_database.pool.execute("SELECT pg_terminate_backend($1)", backend_pid)

        terminator = asyncio.create_task(terminate_soon())
        with pytest.raises(DatabaseUnavailableError):
            async with database.connection() as connection:
                await connection.execute("SELECT pg_sleep(5)")
        await terminator

        assert await AsyncpgWidgetRepository(database).get(uuid.uuid4()) is None
        await database.ping()
    finally:
        await pool.close()

    with pytest.raises(DatabaseUnavailableError):
        await database.ping()


@integration
async def test_a_busy_pool_makes_a_request_wait_for_the_next_free_connection(
    postgres_url: str,
) -> None:
    pool = await create_pool(postgres_url, min_size=1, max_size=1)
    database = Database(pool)  # the default wait; it used to give up after 5 s
    try:
        holding = asyncio.Event()

        async def hold_the_only_connection() -> None:
            async with database.connection() as connection:
                holding.set()
                await connection.execute("SELECT pg_sleep(5.5)")

        holder = asyncio.create_task(hold_the_only_connection())
        await holding.wait()
        started = time.perf_counter()

        # Queued behind the holder until it let go, not refused.
        assert await AsyncpgWidgetRepository(database).get(uuid.uuid4()) is None
        assert time.perf_counter() - started >= 5.0
        await holder
    finally:
        await pool.close()


@integration
async def test_a_pool_busy_past_the_wait_is_busy_with_a_retry_after_not_unavailable(
    postgres_url: str,
) -> None:
    pool = await create_pool(postgres_url, min_size=1, max_size=1)
    database = Database(pool, pool_wait=0.3)
    try:
        holding, release = asyncio.Event(), asyncio.Event()

        async def hold_the_only_connection() -> None:
            async with database.connection():
                holding.set()
                await release.wait()

        holder = asyncio.create_task(hold_the_only_connection())
        await holding.wait()

        with pytest.raises(DatabaseBusyError) as raised:
            await AsyncpgWidgetRepository(database).get(uuid.uuid4())

        assert raised.value.retry_after >= 1
        assert not isinstance(raised.value, DatabaseUnavailableError)
        release.set()
        await holder
        assert await AsyncpgWidgetRepository(database).get(uuid.uuid4()) is None
    finally:
        await pool.close()


@integration
async def test_a_statement_past_its_timeout_while_others_are_answered_is_busy_not_unavailable(
    postgres_url: str,
) -> None:
    # A starved worker or a slow query: the database answers the other connection
    # meanwhile, so the timeout is load, and later requests keep the pool's full wait.
    pool = await create_pool(postgres_url, min_size=2, max_size=2, command_timeout=0.5)
    database = Database(pool)
    try:

        async def slow() -> None:
            async with database.connection() as connection:
                await connection.execute("SELECT pg_sleep(5)")

        slow_one = asyncio.create_task(slow())
        await asyncio.sleep(0.1)
        assert await AsyncpgWidgetRepository(database).get(uuid.uuid4()) is None

        with pytest.raises(DatabaseBusyError):
            await slow_one

        # Never thought down, so a request still queues behind a full pool for longer than
        # an outage's 1 s wait, and is served.
        held, release = [asyncio.Event(), asyncio.Event()], asyncio.Event()

        async def hold(event: asyncio.Event) -> None:
            async with database.connection():
                event.set()
                await release.wait()

        holders = [asyncio.create_task(hold(event)) for event in held]
        await asyncio.gather(*(event.wait() for event in held))
        asyncio.get_running_loop().call_later(1.5, release.set)
        assert await AsyncpgWidgetRepository(database).get(uuid.uuid4()) is None
        await asyncio.gather(*holders)
    finally:
        await pool.close()


# Feedback


async def an_answered_conversation(repos: Repositories) -> tuple[Conversation, Message, Message]:
    conversation = await a_conversation(repos)
    question, answer = a_message(conversation, 1), a_message(conversation, 2, Role.ASSISTANT)
    await save(repos, question, answer, opening=conversation)
    return conversation, question, answer


def a_vote(widget_id: uuid.UUID, message_id: uuid.UUID, **overrides: object) -> Feedback:
    fields: dict[str, object] = {
        "message_id": message_id,
        "widget_id": widget_id,
        "rating": Rating.DOWN,
        "comment": "It missed the refund part — «quoted»",
        "created_at": EPOCH,
    }
    return Feedback(**(fields | overrides))  # type: ignore[arg-type]


async def test_a_vote_on_an_answer_reads_back(repos: Repositories) -> None:
    conversation, _, answer = await an_answered_conversation(repos)
    vote = a_vote(conversation.widget_id, answer.id)

    assert await repos.feedback.save(vote) is True

    assert await votes_of(repos, conversation.widget_id) == [vote]


async def test_the_last_vote_on_an_answer_wins(repos: Repositories) -> None:
    conversation, _, answer = await an_answered_conversation(repos)
    first = a_vote(conversation.widget_id, answer.id, rating=Rating.UP, comment=None)
    last = a_vote(conversation.widget_id, answer.id, created_at=EPOCH + timedelta(minutes=1))

    assert await repos.feedback.save(first) is True
    assert await repos.feedback.save(last) is True

    assert await votes_of(repos, conversation.widget_id) == [last]


async def test_only_an_answer_of_the_widgets_own_conversations_takes_a_vote(
    repos: Repositories,
) -> None:
    conversation, question, answer = await an_answered_conversation(repos)
    other = await a_conversation(repos)

    refused = (
        a_vote(other.widget_id, answer.id),  # another widget's answer
        a_vote(conversation.widget_id, question.id),  # a question, not an answer
        a_vote(conversation.widget_id, uuid.uuid4()),  # no such message
    )
    for vote in refused:
        assert await repos.feedback.save(vote) is False

    assert await votes_of(repos, conversation.widget_id) == []
    assert await votes_of(repos, other.widget_id) == []


async def votes_of(
    repos: Repositories, widget_id: UUID, where: FeedbackFilter | None = None
) -> list[Feedback]:
    """The widget's votes as the owner's list has them, newest first, as saved."""
    listed = await repos.feedback.list_for_widget(widget_id, where or FeedbackFilter(), None, 100)
    return [
        Feedback(
            message_id=v.message_id,
            widget_id=widget_id,
            rating=v.rating,
            comment=v.comment,
            created_at=v.created_at,
        )
        for v in listed
    ]


async def test_votes_are_listed_per_widget_newest_first_a_page_at_a_time(
    repos: Repositories,
) -> None:
    conversation = await a_conversation(repos)
    answers = [a_message(conversation, n, Role.ASSISTANT) for n in (1, 2, 3, 4)]
    await save(repos, *answers, opening=conversation)
    elsewhere, _, other_answer = await an_answered_conversation(repos)
    # Two votes of one instant: the answer's id breaks the tie, so pages are exact.
    moments = (0, 1, 1, 2)
    votes = [
        a_vote(conversation.widget_id, m.id, created_at=EPOCH + timedelta(minutes=n))
        for n, m in zip(moments, answers, strict=True)
    ]
    for vote in [*votes, a_vote(elsewhere.widget_id, other_answer.id)]:
        assert await repos.feedback.save(vote)
    newest = sorted(votes, key=lambda v: (v.created_at, v.message_id), reverse=True)

    first = await repos.feedback.list_for_widget(conversation.widget_id, FeedbackFilter(), None, 2)
    after = Position(first[-1].created_at, first[-1].message_id)
    rest = await repos.feedback.list_for_widget(conversation.widget_id, FeedbackFilter(), after, 9)

    assert [v.message_id for v in [*first, *rest]] == [v.message_id for v in newest]
    assert await votes_of(repos, conversation.widget_id) == newest


async def test_votes_are_listed_with_the_answer_and_the_question_it_followed(
    repos: Repositories,
) -> None:
    widget = await a_listed_widget(repos)
    talk = await a_talk(repos, widget, 1, an_answer("Two years [1]."), an_answer("Five days."),
                        visitor_id="v-7", question="Warranty?")  # fmt: skip
    first, second = await answers_of(repos, talk)
    # An answer before any question (say, a greeting kept as an answer) has none.
    opener = Conversation(id=uuid.uuid4(), widget_id=widget.id, visitor_id=None, created_at=EPOCH)
    greeting = a_message(opener, 1, Role.ASSISTANT, content="Hi!")
    await save(repos, greeting, opening=opener)
    await vote(repos, widget, second, Rating.UP, at=1)
    await vote(repos, widget, first, Rating.DOWN, "Which kettle?", at=2)
    await vote(repos, widget, greeting, Rating.DOWN, at=3)

    listed = await repos.feedback.list_for_widget(widget.id, FeedbackFilter(), None, 10)

    assert listed == [
        RatedAnswer(
            message_id=greeting.id, conversation_id=opener.id, visitor_id=None,
            rating=Rating.DOWN, comment=None, created_at=EPOCH + timedelta(minutes=3),
            question=None, answer="Hi!",
        ),
        RatedAnswer(
            message_id=first.id, conversation_id=talk.id, visitor_id="v-7",
            rating=Rating.DOWN, comment="Which kettle?", created_at=EPOCH + timedelta(minutes=2),
            question="Warranty?", answer="Two years [1].",
        ),
        RatedAnswer(
            message_id=second.id, conversation_id=talk.id, visitor_id="v-7",
            rating=Rating.UP, comment=None, created_at=EPOCH + timedelta(minutes=1),
            question="Warranty? (1)", answer="Five days.",
        ),
    ]  # fmt: skip


async def test_votes_are_filtered_by_rating_and_period(repos: Repositories) -> None:
    widget = await a_listed_widget(repos)
    talk = await a_talk(repos, widget, 1, an_answer(), an_answer(), an_answer())
    answers = await answers_of(repos, talk)
    for minutes, (answer, rating) in enumerate(
        zip(answers, (Rating.UP, Rating.DOWN, Rating.DOWN), strict=True)
    ):
        await vote(repos, widget, answer, rating, at=minutes)

    async def listed(**where: object) -> list[UUID]:
        found = await votes_of(repos, widget.id, FeedbackFilter(**where))  # type: ignore[arg-type]
        return [v.message_id for v in found]

    assert await listed(rating=Rating.DOWN) == [answers[2].id, answers[1].id]
    assert await listed(rating=Rating.UP) == [answers[0].id]
    assert await listed(since=EPOCH + timedelta(minutes=1), until=EPOCH + timedelta(minutes=2)) == [
        answers[1].id
    ]  # since inclusive, until exclusive
    assert await listed(rating=Rating.UP, since=EPOCH + timedelta(minutes=1)) == []


# Votes where the owner reads conversations


async def answers_of(repos: Repositories, talk: Conversation) -> list[Message]:
    messages = await repos.conversations.recent_messages(talk.id, 100)
    return [m for m in messages if m.role is Role.ASSISTANT]


async def vote(
    repos: Repositories,
    widget: Widget,
    answer: Message,
    rating: Rating,
    comment: str | None = None,
    at: float = 0,
) -> Feedback:
    """The visitor's vote on `answer`, given `at` minutes after EPOCH."""
    feedback = Feedback(
        message_id=answer.id,
        widget_id=widget.id,
        rating=rating,
        comment=comment,
        created_at=EPOCH + timedelta(minutes=at),
    )
    assert await repos.feedback.save(feedback)
    return feedback


async def test_conversations_are_listed_with_their_votes_and_filtered_by_rating(
    repos: Repositories,
) -> None:
    widget = await a_listed_widget(repos, no_answer_message="No idea.")
    panned = await a_talk(repos, widget, 1, an_answer(), an_answer(), an_answer())
    liked = await a_talk(repos, widget, 2, an_answer())
    lost = await a_talk(repos, widget, 3, an_answer("No idea.", finish_reason="no_answer"))
    silent = await a_talk(repos, widget, 4, an_answer())
    p1, p2, _ = await answers_of(repos, panned)
    await vote(repos, widget, p1, Rating.DOWN, "Wrong kettle")
    await vote(repos, widget, p2, Rating.UP, at=1)
    [l1] = await answers_of(repos, liked)
    await vote(repos, widget, l1, Rating.DOWN)
    await vote(repos, widget, l1, Rating.UP, at=2)  # changed their mind: the last vote wins
    [n1] = await answers_of(repos, lost)
    await vote(repos, widget, n1, Rating.DOWN)
    # Another widget's rated conversation is not among these.
    other = await a_listed_widget(repos)
    [o1] = await answers_of(repos, await a_talk(repos, other, 5, an_answer()))
    await vote(repos, other, o1, Rating.DOWN)

    async def listed(**where: object) -> list[UUID]:
        found = await repos.conversations.list_for_widget(
            widget.id, ConversationFilter(no_answer_message="No idea.", **where), None, 10
        )
        return [c.id for c in found]

    everything = await repos.conversations.list_for_widget(
        widget.id, ConversationFilter(), None, 10
    )
    assert [(c.id, c.feedback) for c in everything] == [
        (silent.id, FeedbackCounts(up=0, down=0)),
        (lost.id, FeedbackCounts(up=0, down=1)),
        (liked.id, FeedbackCounts(up=1, down=0)),
        (panned.id, FeedbackCounts(up=1, down=1)),
    ]
    assert [c.message_count for c in everything] == [2, 2, 2, 6]  # votes are not messages
    assert await listed(rating=Rating.DOWN) == [lost.id, panned.id]
    assert await listed(rating=Rating.UP) == [liked.id, panned.id]
    assert await listed(rating=Rating.DOWN, outcome=ConversationOutcome.NO_ANSWER) == [lost.id]
    assert await listed(rating=Rating.UP, outcome=ConversationOutcome.NO_ANSWER) == []
    assert await listed(rating=Rating.DOWN, until=EPOCH + timedelta(hours=2)) == [panned.id]
    page = Position(lost.created_at, lost.id)
    after = await repos.conversations.list_for_widget(
        widget.id, ConversationFilter(rating=Rating.DOWN), page, 10
    )
    assert [c.id for c in after] == [panned.id]


async def test_a_conversation_in_full_and_its_export_carry_each_answers_vote(
    repos: Repositories,
) -> None:
    widget = await a_listed_widget(repos)
    talk = await a_talk(repos, widget, 1, an_answer(), an_answer())
    rated, unrated = await answers_of(repos, talk)
    await vote(repos, widget, rated, Rating.UP, at=1)
    last = await vote(repos, widget, rated, Rating.DOWN, "=It missed «refunds»", at=2)

    detail = await repos.conversations.detail(talk.id)
    exported = [row async for row in repos.conversations.export(widget.id, None, None)]

    assert detail is not None
    expected = MessageFeedback(rating=Rating.DOWN, comment=last.comment, created_at=last.created_at)
    assert [(m.id, m.feedback) for m in detail.messages] == [
        (detail.messages[0].id, None),
        (rated.id, expected),
        (detail.messages[2].id, None),
        (unrated.id, None),
    ]
    assert [(r.message.id, r.feedback) for r in exported] == [
        (m.id, m.feedback) for m in detail.messages
    ]


async def test_a_question_whose_answer_was_rated_down_is_among_the_unanswered(
    repos: Repositories,
) -> None:
    widget = await a_listed_widget(repos, no_answer_message="No idea.")
    panned = await a_talk(repos, widget, 1, an_answer(), question="Is it dishwasher safe?")
    liked = await a_talk(repos, widget, 2, an_answer(), question="Warranty?")
    both = await a_talk(repos, widget, 3, an_answer("No idea."), question="Mars?")
    await a_talk(repos, widget, 4, an_answer(), question="Not rated?")
    for talk, rating in ((panned, Rating.DOWN), (liked, Rating.UP), (both, Rating.DOWN)):
        [answer] = await answers_of(repos, talk)
        await vote(repos, widget, answer, rating)

    where = ConversationFilter(no_answer_message="No idea.")
    asked = await repos.conversations.unanswered_questions(widget.id, where, 10)

    assert [(q.text, q.conversation_id) for q in asked] == [
        ("Mars?", both.id),
        ("Is it dishwasher safe?", panned.id),
    ]
    later = msgspec.structs.replace(where, since=EPOCH + timedelta(hours=2))
    assert [q.text for q in await repos.conversations.unanswered_questions(
        widget.id, later, 10)] == ["Mars?"]  # fmt: skip


async def test_erasing_a_visitor_or_purging_a_conversation_removes_its_votes(
    repos: Repositories,
) -> None:
    widget = await a_listed_widget(repos, retention_days=30)
    theirs = await a_talk(repos, widget, 1, an_answer(), visitor_id="v-9")
    idle = await a_talk(repos, widget, 2, an_answer(), visitor_id="v-idle")
    kept = await a_talk(repos, widget, 24 * 60, an_answer(), visitor_id="v-stays")
    for talk in (theirs, idle, kept):
        [answer] = await answers_of(repos, talk)
        await vote(repos, widget, answer, Rating.DOWN, f"said by {talk.visitor_id}")
    [kept_answer] = await answers_of(repos, kept)

    await repos.conversations.erase_visitor(widget.id, "v-9")
    await repos.conversations.purge_idle(EPOCH + timedelta(days=40), 10)

    assert [v.comment for v in await votes_of(repos, widget.id)] == ["said by v-stays"]
    assert [v.message_id for v in await votes_of(repos, widget.id)] == [kept_answer.id]
