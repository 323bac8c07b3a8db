"""Deterministic clock and ids, scripted chat models, and the use cases wired on fakes."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from adapters.cache.memory import MemoryCache
from adapters.llm.extractive import ExtractiveChatModel
from adapters.llm.router import PlanModelRouter
from adapters.parsing.plaintext import PlainTextParser
from application.answer_cache import AnswerCache
from application.chat import AnswerQuestion, ChatPolicy
from application.documents import DeleteDocument, GetDocument, ListDocuments
from application.history import RecentHistory
from application.ingestion import IngestionPolicy, ProcessDocument, SubmitDocument
from application.limits import ChatLimits, LimitPolicy, PlanLimits
from application.ports import ChatModel
from application.query_embeddings import QueryEmbeddings
from application.usage import SummarizeUsage
from application.widgets import (
    AuthorizeVisitor,
    CreateWidget,
    DeleteWidget,
    GetWidget,
    UpdateWidget,
    WidgetLookup,
)
from domain.errors import ModelUnavailableError
from domain.models import Plan, Usage
from domain.prompts import Prompt
from tests.fakes.embedder import HashEmbedder
from tests.fakes.repositories import (
    FakeTransactions,
    MemoryConversationRepository,
    MemoryDocumentRepository,
    MemoryJobQueue,
    MemoryTurnRepository,
    MemoryUsageRepository,
    MemoryWidgetRepository,
)
from tests.fakes.telemetry import RecordingTelemetry
from tests.fakes.vectorstore import MemoryVectorStore


class FakeClock:
    def __init__(self) -> None:
        self.current = datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        self.current += timedelta(milliseconds=1)
        return self.current


class SequentialIds:
    def __init__(self) -> None:
        self._n = itertools.count(1)

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=next(self._n))

    def new_key(self) -> str:
        return f"wk_test_{next(self._n)}"


class ScriptedModel:
    """Streams the given deltas; can fail before the first one or after some."""

    def __init__(
        self,
        name: str,
        deltas: Sequence[str] = ("Hello ", "world [1]"),
        usage: Usage | None = None,
        fail_after: int | None = None,
        error: Exception | None = None,
    ) -> None:
        self.name = name
        self._deltas = deltas
        self._usage = usage or Usage(12, 3)
        self._fail_after = fail_after
        self._error = error or ModelUnavailableError(f"{name} is down")
        self.prompts: list[Prompt] = []

    async def stream(self, prompt: Prompt) -> AsyncIterator[str | Usage]:
        self.prompts.append(prompt)
        for n, delta in enumerate(self._deltas):
            if self._fail_after is not None and n >= self._fail_after:
                raise self._error
            yield delta
        if self._fail_after is not None and self._fail_after >= len(self._deltas):
            raise self._error
        yield self._usage


@dataclass
class FakeApp:
    models: dict[Plan, list[ChatModel]] = field(
        default_factory=lambda: {
            Plan.FREE: [ExtractiveChatModel()],
            Plan.PAID: [ExtractiveChatModel()],
        }
    )
    widgets: MemoryWidgetRepository = field(default_factory=MemoryWidgetRepository)
    documents: MemoryDocumentRepository = field(default_factory=MemoryDocumentRepository)
    conversations: MemoryConversationRepository = field(
        default_factory=MemoryConversationRepository
    )
    usage: MemoryUsageRepository = field(default_factory=MemoryUsageRepository)
    jobs: MemoryJobQueue = field(default_factory=MemoryJobQueue)
    embedder: HashEmbedder = field(default_factory=HashEmbedder)
    clock: FakeClock = field(default_factory=FakeClock)
    ids: SequentialIds = field(default_factory=SequentialIds)
    cache: MemoryCache = field(default_factory=MemoryCache)
    telemetry: RecordingTelemetry = field(default_factory=RecordingTelemetry)
    chat_policy: ChatPolicy = field(default_factory=lambda: ChatPolicy(min_score=0.1))
    ingestion_policy: IngestionPolicy = field(
        default_factory=lambda: IngestionPolicy(max_document_bytes=10_000, retry_base_seconds=0)
    )
    limit_policy: LimitPolicy = field(
        default_factory=lambda: LimitPolicy(
            by_plan={
                plan: PlanLimits(
                    visitor_per_minute=1000, widget_per_minute=1000, messages_per_month=10_000
                )
                for plan in Plan
            }
        )
    )

    def __post_init__(self) -> None:
        self.vectors = MemoryVectorStore(self.embedder.dimension)
        self.parser = PlainTextParser()
        tx = FakeTransactions()
        self.lookup = WidgetLookup(self.widgets, self.cache, self.telemetry)
        self.answers = AnswerCache(self.cache, self.telemetry)
        self.limits = ChatLimits(
            self.cache, self.usage, self.clock, self.telemetry, self.limit_policy
        )
        self.create_widget = CreateWidget(self.widgets, self.clock, self.ids)
        self.get_widget = GetWidget(self.widgets)
        self.update_widget = UpdateWidget(self.widgets, self.lookup, self.clock)
        self.delete_widget = DeleteWidget(self.widgets, self.documents, self.vectors, self.lookup)
        self.authorize = AuthorizeVisitor(self.lookup)
        self.submit = SubmitDocument(
            widgets=self.widgets,
            documents=self.documents,
            jobs=self.jobs,
            transactions=tx,
            parser=self.parser,
            clock=self.clock,
            ids=self.ids,
            policy=self.ingestion_policy,
        )
        self.process = ProcessDocument(
            documents=self.documents,
            jobs=self.jobs,
            parser=self.parser,
            embedder=self.embedder,
            vectors=self.vectors,
            clock=self.clock,
            policy=self.ingestion_policy,
            telemetry=self.telemetry,
            answers=self.answers,
        )
        self.get_document = GetDocument(self.documents)
        self.list_documents = ListDocuments(self.widgets, self.documents)
        self.delete_document = DeleteDocument(self.documents, self.vectors, self.answers)
        self.answer = AnswerQuestion(
            conversations=self.conversations,
            turns=MemoryTurnRepository(self.conversations, self.usage),
            questions=QueryEmbeddings(self.embedder, self.cache, self.telemetry),
            vectors=self.vectors,
            models=PlanModelRouter(self.models),
            clock=self.clock,
            ids=self.ids,
            policy=self.chat_policy,
            telemetry=self.telemetry,
            limits=self.limits,
            answers=self.answers,
            history=RecentHistory(self.conversations, self.cache, self.telemetry),
        )
        self.summarize = SummarizeUsage(self.usage, self.clock)

    async def drain(self) -> None:
        while await self.process.next_job():
            pass
