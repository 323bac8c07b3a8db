"""Contract of the persistence ports, held by the in-memory fakes and the asyncpg adapters."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

import msgspec
import pytest

from adapters.postgres.conversations import AsyncpgConversationRepository
from adapters.postgres.database import Database, create_pool
from adapters.postgres.documents import AsyncpgDocumentRepository
from adapters.postgres.exchanges import AsyncpgExchangeRepository
from adapters.postgres.feedback import AsyncpgFeedbackRepository
from adapters.postgres.jobs import AsyncpgJobQueue
from adapters.postgres.usage import AsyncpgUsageRepository
from adapters.postgres.widgets import AsyncpgWidgetRepository
from application.ports.storage import (
    ConversationRepository,
    DocumentRepository,
    Exchange,
    ExchangeRepository,
    FeedbackRepository,
    UsageRepository,
    WidgetRepository,
)
from domain.errors import DatabaseUnavailableError
from domain.models import (
    Conversation,
    Document,
    DocumentStatus,
    Feedback,
    Message,
    ModelUsage,
    Plan,
    Progress,
    Rating,
    Role,
    Source,
    Stage,
    Usage,
    UsageEvent,
    WidgetPosition,
)
from testkit.entities import EPOCH, a_document, a_widget
from testkit.fakes.repositories import (
    MemoryConversationRepository,
    MemoryDocumentRepository,
    MemoryExchangeRepository,
    MemoryFeedbackRepository,
    MemoryUsageRepository,
    MemoryWidgetRepository,
)


@dataclass(frozen=True)
class Repositories:
    widgets: WidgetRepository
    documents: DocumentRepository
    conversations: ConversationRepository
    usage: UsageRepository
    turns: ExchangeRepository
    feedback: FeedbackRepository
    backend: str


@pytest.fixture(params=["memory", pytest.param("asyncpg", marks=pytest.mark.integration)])
def repos(request: pytest.FixtureRequest) -> Repositories:
    if request.param == "memory":
        conversations, usage = MemoryConversationRepository(), MemoryUsageRepository()
        return Repositories(
            MemoryWidgetRepository(),
            MemoryDocumentRepository(),
            conversations,
            usage,
            MemoryExchangeRepository(conversations, usage),
            MemoryFeedbackRepository(conversations),
            backend="memory",
        )
    database: Database = request.getfixturevalue("pg_database")
    return Repositories(
        AsyncpgWidgetRepository(database),
        AsyncpgDocumentRepository(database),
        AsyncpgConversationRepository(database),
        AsyncpgUsageRepository(database),
        AsyncpgExchangeRepository(database),
        AsyncpgFeedbackRepository(database),
        backend="asyncpg",
    )


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
    """Saves the turn this event bills: its widget, conversation and answer are new."""
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

    assert await repos.feedback.list_for_widget(conversation.widget_id) == [vote]


async def test_the_last_vote_on_an_answer_wins(repos: Repositories) -> None:
    conversation, _, answer = await an_answered_conversation(repos)
    first = a_vote(conversation.widget_id, answer.id, rating=Rating.UP, comment=None)
    last = a_vote(conversation.widget_id, answer.id, created_at=EPOCH + timedelta(minutes=1))

    assert await repos.feedback.save(first) is True
    assert await repos.feedback.save(last) is True

    assert await repos.feedback.list_for_widget(conversation.widget_id) == [last]


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

    assert await repos.feedback.list_for_widget(conversation.widget_id) == []
    assert await repos.feedback.list_for_widget(other.widget_id) == []


async def test_votes_are_listed_per_widget_newest_first(repos: Repositories) -> None:
    conversation = await a_conversation(repos)
    answers = [a_message(conversation, n, Role.ASSISTANT) for n in (1, 2, 3)]
    await save(repos, *answers, opening=conversation)
    elsewhere, _, other_answer = await an_answered_conversation(repos)
    votes = [
        a_vote(conversation.widget_id, m.id, created_at=EPOCH + timedelta(minutes=n))
        for n, m in enumerate(answers)
    ]
    for vote in [*votes, a_vote(elsewhere.widget_id, other_answer.id)]:
        assert await repos.feedback.save(vote)

    assert await repos.feedback.list_for_widget(conversation.widget_id) == votes[::-1]
    assert await repos.feedback.list_for_widget(conversation.widget_id, limit=2) == votes[:0:-1]
