"""PostgreSQL: an embedded server (pgserver) unless DATABASE_URL names one; migrated to
head at start either way, and read and written through the same asyncpg repositories."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from dishka import Provider, Scope, provide

from adapters.postgres.conversations import AsyncpgConversationRepository
from adapters.postgres.database import Database, create_pool
from adapters.postgres.documents import AsyncpgDocumentRepository
from adapters.postgres.embedded import start_embedded_postgres, stop_embedded_postgres
from adapters.postgres.exchanges import AsyncpgExchangeRepository
from adapters.postgres.feedback import AsyncpgFeedbackRepository
from adapters.postgres.ingestion_usage import AsyncpgIngestionUsageRepository
from adapters.postgres.jobs import AsyncpgJobQueue
from adapters.postgres.migrations import upgrade_to_head
from adapters.postgres.usage import AsyncpgUsageRepository
from adapters.postgres.widgets import AsyncpgWidgetRepository
from application.ports.ingestion import IngestionUsageRepository
from application.ports.jobs import JobQueue
from application.ports.storage import (
    ConversationRepository,
    DocumentRepository,
    ExchangeRepository,
    FeedbackRepository,
    Transactions,
    UsageRepository,
    WidgetRepository,
)
from entrypoints.settings import Settings
from entrypoints.wiring.configured import Configured

log = structlog.get_logger()


@asynccontextmanager
async def _opened(url: str, settings: Settings) -> AsyncIterator[Database]:
    await asyncio.to_thread(upgrade_to_head, url)
    pool = await create_pool(url, min_size=1, max_size=settings.database_pool_size)
    try:
        yield Database(pool, pool_wait=settings.database_pool_wait)
    finally:
        await pool.close()


class StorageProvider(Provider):
    scope = Scope.APP

    @provide
    async def embedded_database(self, settings: Settings) -> AsyncIterator[Database]:
        url = await asyncio.to_thread(start_embedded_postgres, settings.data_dir)
        log.info("embedded_postgres_started", data_dir=str(settings.data_dir / "postgres"))
        try:
            async with _opened(url, settings) as database:
                yield database
        finally:
            # At exit would be too late: a server killed by signal never runs atexit.
            await asyncio.to_thread(stop_embedded_postgres, settings.data_dir)

    @provide(when=Configured("postgres"))
    async def database_server(self, settings: Settings) -> AsyncIterator[Database]:
        assert settings.database_url is not None
        async with _opened(settings.database_url, settings) as database:
            yield database

    widgets = provide(AsyncpgWidgetRepository, provides=WidgetRepository)
    documents = provide(AsyncpgDocumentRepository, provides=DocumentRepository)
    conversations = provide(AsyncpgConversationRepository, provides=ConversationRepository)
    usage = provide(AsyncpgUsageRepository, provides=UsageRepository)
    exchanges = provide(AsyncpgExchangeRepository, provides=ExchangeRepository)
    feedback = provide(AsyncpgFeedbackRepository, provides=FeedbackRepository)

    @provide
    def jobs(self, database: Database, settings: Settings) -> JobQueue:
        return AsyncpgJobQueue(database, lease_seconds=settings.job_lease_seconds)

    @provide
    def ingestion_usage(self, database: Database) -> IngestionUsageRepository:
        return AsyncpgIngestionUsageRepository(database)

    @provide
    def transactions(self, database: Database) -> Transactions:
        return database
