"""The persistence ports, as the contract tests get them: the in-memory fakes or the
asyncpg adapters on one database, wired to each other as the service wires them."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.postgres.conversations import AsyncpgConversationRepository
from adapters.postgres.database import Database
from adapters.postgres.documents import AsyncpgDocumentRepository
from adapters.postgres.exchanges import AsyncpgExchangeRepository
from adapters.postgres.feedback import AsyncpgFeedbackRepository
from adapters.postgres.usage import AsyncpgUsageRepository
from adapters.postgres.widgets import AsyncpgWidgetRepository
from application.ports.storage import (
    ConversationRepository,
    DocumentRepository,
    ExchangeRepository,
    FeedbackRepository,
    UsageRepository,
    WidgetRepository,
)
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


def in_memory() -> Repositories:
    widgets, usage = MemoryWidgetRepository(), MemoryUsageRepository()
    conversations = MemoryConversationRepository(widgets, usage)
    return Repositories(
        widgets,
        MemoryDocumentRepository(),
        conversations,
        usage,
        MemoryExchangeRepository(conversations, usage),
        MemoryFeedbackRepository(conversations),
        backend="memory",
    )


def on_postgres(database: Database) -> Repositories:
    return Repositories(
        AsyncpgWidgetRepository(database),
        AsyncpgDocumentRepository(database),
        AsyncpgConversationRepository(database),
        AsyncpgUsageRepository(database),
        AsyncpgExchangeRepository(database),
        AsyncpgFeedbackRepository(database),
        backend="asyncpg",
    )
