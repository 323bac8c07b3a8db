"""The application wired on fakes: the real use-case provider, plus a provider that hands
it the fakes below in place of the adapters. Use cases come from `app.get(UseCase)`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

from dishka import Container, Provider, Scope, make_container

from adapters.cache.memory import MemoryCache
from adapters.llm.extractive import ExtractiveChatModel
from adapters.llm.router import PlanModelRouter
from adapters.parsing.plaintext import PlainTextParser
from adapters.spelling.edits import EditDistanceSpelling
from application.chat.limits import LimitPolicy, PlanLimits
from application.chat.question import ChatPolicy
from application.ingestion.allowance import IngestionLimitPolicy, IngestionLimits
from application.ingestion.policy import IngestionPolicy
from application.ingestion.processing import ProcessDocument
from application.ports.caching import Cache
from application.ports.documents import DocumentFetcher, DocumentParser
from application.ports.ingestion import IngestionUsageRepository
from application.ports.jobs import JobQueue
from application.ports.models import ChatModel, ChatModelRouter, Embedder
from application.ports.spelling import Spelling
from application.ports.storage import (
    ConversationRepository,
    DocumentRepository,
    ExchangeRepository,
    FeedbackRepository,
    Transactions,
    UsageRepository,
    WidgetRepository,
)
from application.ports.system import Clock, IdGenerator
from application.ports.telemetry import Telemetry
from application.ports.vectors import VectorStore
from domain.models import Plan
from entrypoints.wiring.use_cases import UseCaseProvider
from testkit.fakes.embedder import HashEmbedder
from testkit.fakes.fetcher import StaticFetcher
from testkit.fakes.ingestion import MemoryIngestionUsageRepository
from testkit.fakes.repositories import (
    FakeTransactions,
    MemoryConversationRepository,
    MemoryDocumentRepository,
    MemoryExchangeRepository,
    MemoryFeedbackRepository,
    MemoryJobQueue,
    MemoryUsageRepository,
    MemoryWidgetRepository,
)
from testkit.fakes.system import FakeClock, SequentialIds
from testkit.fakes.telemetry import RecordingTelemetry
from testkit.fakes.vectorstore import MemoryVectorStore

T = TypeVar("T")


def _generous_limits() -> LimitPolicy:
    return LimitPolicy(
        by_plan={
            plan: PlanLimits(
                visitor_per_minute=1000,
                address_per_minute=1000,
                widget_per_minute=1000,
                messages_per_month=10_000,
            )
            for plan in Plan
        }
    )


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
    embedder: Embedder = field(default_factory=HashEmbedder)
    fetcher: StaticFetcher = field(default_factory=StaticFetcher)
    clock: FakeClock = field(default_factory=FakeClock)
    ids: IdGenerator = field(default_factory=SequentialIds)
    cache: Cache = field(default_factory=MemoryCache)
    telemetry: RecordingTelemetry = field(default_factory=RecordingTelemetry)
    chat_policy: ChatPolicy = field(default_factory=lambda: ChatPolicy(min_score=0.1))
    # One-line sections stay chunks of their own here, so a test can count them; the
    # merging of short sections is tested on its own (test_chunking, test_documents).
    ingestion_policy: IngestionPolicy = field(
        default_factory=lambda: IngestionPolicy(
            max_document_bytes=10_000, retry_base_seconds=0, chunk_min_section_tokens=0
        )
    )
    limit_policy: LimitPolicy = field(default_factory=_generous_limits)
    ingestion_limits: IngestionLimitPolicy = field(
        default_factory=lambda: IngestionLimitPolicy(
            by_plan={plan: IngestionLimits() for plan in Plan}
        )
    )
    ingestion_usage: MemoryIngestionUsageRepository = field(
        default_factory=MemoryIngestionUsageRepository
    )
    # The in-memory store and the plain-text parser unless given: a bench hands in the real
    # ones (bench/answer_eval.py), to run the use cases as production wires them.
    vectors: VectorStore | None = None
    parser: DocumentParser | None = None
    spelling: Spelling = field(default_factory=EditDistanceSpelling)

    def __post_init__(self) -> None:
        self.conversations.widgets, self.conversations.usage = self.widgets, self.usage
        self.jobs.owners = self._owner_of
        if self.vectors is None:
            self.vectors = MemoryVectorStore(self.embedder.dimension)
        if self.parser is None:
            self.parser = PlainTextParser()
        self.feedback = MemoryFeedbackRepository(self.conversations)
        self.exchanges = MemoryExchangeRepository(self.conversations, self.usage)
        fakes: dict[Any, Any] = {
            WidgetRepository: self.widgets,
            DocumentRepository: self.documents,
            ConversationRepository: self.conversations,
            ExchangeRepository: self.exchanges,
            UsageRepository: self.usage,
            FeedbackRepository: self.feedback,
            Transactions: FakeTransactions(),
            JobQueue: self.jobs,
            Embedder: self.embedder,
            VectorStore: self.vectors,
            DocumentParser: self.parser,
            DocumentFetcher: self.fetcher,
            ChatModelRouter: PlanModelRouter(self.models),
            Clock: self.clock,
            IdGenerator: self.ids,
            Spelling: self.spelling,
            Cache: self.cache,
            Telemetry: self.telemetry,
            ChatPolicy: self.chat_policy,
            IngestionPolicy: self.ingestion_policy,
            LimitPolicy: self.limit_policy,
            IngestionLimitPolicy: self.ingestion_limits,
            IngestionUsageRepository: self.ingestion_usage,
        }
        ports = Provider(scope=Scope.APP)
        for kind in fakes:
            ports.from_context(provides=kind, scope=Scope.APP)
        self.container: Container = make_container(UseCaseProvider(), ports, context=fakes)

    def _owner_of(self, document_id: UUID) -> tuple[str, UUID | None]:
        document = self.documents.documents.get(document_id)
        widget = self.widgets.widgets.get(document.widget_id) if document else None
        return (widget.tenant_id, widget.id) if widget else ("", None)

    def get(self, kind: type[T]) -> T:
        """A use case or service, wired as production wires it, on the fakes."""
        return self.container.get(kind)

    async def drain(self) -> None:
        while await self.get(ProcessDocument).next_job():
            pass
