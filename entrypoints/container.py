"""dishka providers: which adapter fulfils which port, chosen from the settings."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import structlog
from dishka import Provider, Scope, from_context, provide, provide_all
from qdrant_client import AsyncQdrantClient

from adapters.cache.memory import MemoryCache
from adapters.embeddings.onnx import OnnxEmbedder
from adapters.llm.extractive import ExtractiveChatModel
from adapters.llm.router import PlanModelRouter
from adapters.parsing.plaintext import PlainTextParser
from adapters.postgres.conversations import AsyncpgConversationRepository
from adapters.postgres.database import Database, create_pool
from adapters.postgres.documents import AsyncpgDocumentRepository
from adapters.postgres.embedded import start_embedded_postgres, stop_embedded_postgres
from adapters.postgres.jobs import AsyncpgJobQueue
from adapters.postgres.migrations import upgrade_to_head
from adapters.postgres.usage import AsyncpgUsageRepository
from adapters.postgres.widgets import AsyncpgWidgetRepository
from adapters.system.clock import SystemClock
from adapters.system.ids import RandomIds
from adapters.vectorstore.edge import EdgeVectorStore
from adapters.vectorstore.server import QdrantVectorStore
from application.chat import AnswerQuestion, ChatPolicy
from application.documents import DeleteDocument, GetDocument, ListDocuments
from application.ingestion import IngestionPolicy, ProcessDocument, SubmitDocument
from application.ports import (
    Cache,
    ChatModel,
    ChatModelRouter,
    Clock,
    ConversationRepository,
    DocumentParser,
    DocumentRepository,
    Embedder,
    IdGenerator,
    JobQueue,
    Transactions,
    UsageRepository,
    VectorStore,
    WidgetRepository,
)
from application.usage import SummarizeUsage
from application.widgets import (
    AuthorizeVisitor,
    CreateWidget,
    DeleteWidget,
    GetWidget,
    UpdateWidget,
)
from domain.models import Plan
from entrypoints.readiness import Readiness
from entrypoints.settings import Settings, SettingsError

log = structlog.get_logger()
# A worker that died loses its job for this long before another takes it over.
JOB_LEASE_SECONDS = 120.0


def collection_name(model: str) -> str:
    """One collection (or shard) per embedding model, so vector spaces never mix."""
    return "chunks_" + re.sub(r"[^a-z0-9]+", "_", model.lower()).strip("_")


class PersistenceProvider(Provider):
    scope = Scope.APP
    settings = from_context(provides=Settings)

    @provide
    async def database(self, settings: Settings) -> AsyncIterator[Database]:
        url = settings.database_url
        embedded = url is None
        if url is None:
            url = await asyncio.to_thread(start_embedded_postgres, settings.data_dir)
            log.info("embedded_postgres_started", data_dir=str(settings.data_dir / "postgres"))
        await asyncio.to_thread(upgrade_to_head, url)
        pool = await create_pool(url, min_size=1, max_size=settings.database_pool_size)
        yield Database(pool)
        await pool.close()
        if embedded:
            # At exit would be too late: a server killed by signal never runs atexit.
            await asyncio.to_thread(stop_embedded_postgres, settings.data_dir)

    widgets = provide(AsyncpgWidgetRepository, provides=WidgetRepository)
    documents = provide(AsyncpgDocumentRepository, provides=DocumentRepository)
    conversations = provide(AsyncpgConversationRepository, provides=ConversationRepository)
    usage = provide(AsyncpgUsageRepository, provides=UsageRepository)

    @provide
    def jobs(self, database: Database) -> JobQueue:
        return AsyncpgJobQueue(database, lease_seconds=JOB_LEASE_SECONDS)

    @provide
    def transactions_of(self, database: Database) -> Transactions:
        return database


class RetrievalProvider(Provider):
    scope = Scope.APP

    @provide
    async def embedder(self, settings: Settings) -> AsyncIterator[Embedder]:
        if settings.embeddings != "local":
            raise SettingsError(f"EMBEDDINGS={settings.embeddings!r} is not available; use 'local'")
        embedder = await asyncio.to_thread(OnnxEmbedder)
        yield embedder
        embedder.close()

    @provide
    async def vector_store(
        self, settings: Settings, embedder: Embedder
    ) -> AsyncIterator[VectorStore]:
        name = collection_name(embedder.model)
        if settings.qdrant_url:
            client = AsyncQdrantClient(
                url=settings.qdrant_url,
                api_key=settings.qdrant_api_key,
                timeout=5,
                check_compatibility=False,
            )
            server = QdrantVectorStore(client, name, embedder.dimension)
            await server.ensure_collection()
            yield server
            await server.close()
            return
        path = settings.data_dir / "vectors" / name
        edge = await asyncio.to_thread(EdgeVectorStore, path, embedder.dimension)
        yield edge
        await edge.close()


def _chat_models(specs: list[str], plan: str) -> list[ChatModel]:
    models: list[ChatModel] = []
    for spec in specs:
        if spec == "extractive":
            models.append(ExtractiveChatModel())
        else:
            log.warning(
                "chat_model_skipped",
                plan=plan,
                model=spec,
                reason="provider not available in this build",
            )
    if not models:
        log.warning("chat_model_fallback", plan=plan, model="extractive")
        models.append(ExtractiveChatModel())
    return models


class CoreProvider(Provider):
    scope = Scope.APP
    clock = provide(SystemClock, provides=Clock)
    ids = provide(RandomIds, provides=IdGenerator)

    @provide
    def cache(self) -> Cache:
        return MemoryCache()

    parser = provide(PlainTextParser, provides=DocumentParser)

    @provide
    def router(self, settings: Settings) -> ChatModelRouter:
        chains = settings.llm_chains
        return PlanModelRouter(
            {plan: _chat_models(chains[plan.value], plan.value) for plan in Plan}
        )

    @provide
    def chat_policy(self, settings: Settings) -> ChatPolicy:
        return ChatPolicy(
            max_message_chars=settings.max_message_chars,
            min_score=settings.retrieval_min_score,
        )

    @provide
    def ingestion_policy(self, settings: Settings) -> IngestionPolicy:
        return IngestionPolicy(max_document_bytes=settings.max_upload_bytes)

    @provide
    def readiness(self, database: Database, vectors: VectorStore, cache: Cache) -> Readiness:
        return Readiness(
            required={"database": database.ping, "vector_store": vectors.ping},
            optional={"cache": cache.ping},
        )


class UseCaseProvider(Provider):
    scope = Scope.APP
    use_cases = provide_all(
        AnswerQuestion,
        SubmitDocument,
        ProcessDocument,
        GetDocument,
        ListDocuments,
        DeleteDocument,
        CreateWidget,
        GetWidget,
        UpdateWidget,
        DeleteWidget,
        AuthorizeVisitor,
        SummarizeUsage,
    )


def providers() -> list[Provider]:
    return [PersistenceProvider(), RetrievalProvider(), CoreProvider(), UseCaseProvider()]
