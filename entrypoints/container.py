"""dishka providers: which adapter fulfils which port, chosen from the settings."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator

import structlog
from dishka import Provider, Scope, from_context, provide, provide_all
from qdrant_client import AsyncQdrantClient

from adapters.cache.memory import MemoryCache
from adapters.cache.redis import RedisCache
from adapters.embeddings.onnx import OnnxEmbedder
from adapters.embeddings.openai import OpenAIEmbedder
from adapters.fetching.http_fetcher import HttpFetcher
from adapters.llm.catalog import ModelCatalog, ProviderConfig, openai_client
from adapters.llm.resilience import Resilience
from adapters.llm.router import PlanModelRouter
from adapters.llm.specs import parse_spec
from adapters.parsing.limits import ParseLimits
from adapters.parsing.parser_by_type import ParserByType
from adapters.postgres.conversations import AsyncpgConversationRepository
from adapters.postgres.database import Database, create_pool
from adapters.postgres.documents import AsyncpgDocumentRepository
from adapters.postgres.embedded import start_embedded_postgres, stop_embedded_postgres
from adapters.postgres.jobs import AsyncpgJobQueue
from adapters.postgres.migrations import upgrade_to_head
from adapters.postgres.turns import AsyncpgTurnRepository
from adapters.postgres.usage import AsyncpgUsageRepository
from adapters.postgres.widgets import AsyncpgWidgetRepository
from adapters.system.clock import SystemClock
from adapters.system.ids import RandomIds
from adapters.telemetry.fanout import FanOutTelemetry
from adapters.telemetry.logs import LogTelemetry
from adapters.telemetry.prometheus import PrometheusTelemetry
from adapters.vectorstore.edge import EdgeVectorStore
from adapters.vectorstore.retrieval import Tuning
from adapters.vectorstore.server import QdrantVectorStore
from application.answer_cache import AnswerCache
from application.chat import AnswerQuestion, ChatPolicy
from application.documents import DeleteDocument, GetDocument, ListDocuments
from application.history import RecentHistory
from application.ingestion import IngestionPolicy, ProcessDocument, SubmitDocument, SubmitUrl
from application.limits import ChatLimits, LimitPolicy, PlanLimits
from application.ports import (
    Cache,
    ChatModel,
    ChatModelRouter,
    Clock,
    ConversationRepository,
    DocumentFetcher,
    DocumentParser,
    DocumentRepository,
    Embedder,
    IdGenerator,
    JobQueue,
    Telemetry,
    Transactions,
    TurnRepository,
    UsageRepository,
    VectorStore,
    WidgetRepository,
)
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
from domain.models import Plan
from domain.prompts import PromptBudget
from entrypoints.readiness import Readiness
from entrypoints.settings import Settings, SettingsError

log = structlog.get_logger()


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
    turns = provide(AsyncpgTurnRepository, provides=TurnRepository)

    @provide
    def jobs(self, database: Database, settings: Settings) -> JobQueue:
        return AsyncpgJobQueue(database, lease_seconds=settings.job_lease_seconds)

    @provide
    def transactions_of(self, database: Database) -> Transactions:
        return database


class RetrievalProvider(Provider):
    scope = Scope.APP

    @provide
    async def embedder(self, settings: Settings) -> AsyncIterator[Embedder]:
        if settings.embeddings == "local":
            local = await asyncio.to_thread(OnnxEmbedder)
            yield local
            local.close()
            return
        remote = await _openai_embedder(settings)
        log.info("embedder_ready", model=remote.model, dimension=remote.dimension)
        yield remote
        await remote.close()

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
            server = QdrantVectorStore(client, name, embedder.dimension, _tuning(settings))
            await server.ensure_collection()
            yield server
            await server.close()
            return
        path = settings.data_dir / "vectors" / name
        edge = await asyncio.to_thread(EdgeVectorStore, path, embedder.dimension, _tuning(settings))
        yield edge
        await edge.close()


def provider_config(settings: Settings) -> ProviderConfig:
    return ProviderConfig(
        openai_api_key=settings.openai_api_key,
        openai_base_url=settings.openai_base_url,
        anthropic_api_key=settings.anthropic_api_key,
        anthropic_base_url=settings.anthropic_base_url,
        connect_timeout=settings.llm_connect_timeout,
        resilience=Resilience(
            attempts=settings.llm_retry_attempts,
            backoff_seconds=settings.llm_retry_backoff,
            retry_budget_seconds=settings.llm_retry_budget,
            first_token_seconds=settings.llm_first_token_timeout,
            total_seconds=settings.llm_total_timeout,
        ),
        breaker_failures=settings.llm_breaker_failures,
        breaker_reset_seconds=settings.llm_breaker_reset,
        max_output_tokens=settings.llm_max_output_tokens,
    )


async def _openai_embedder(settings: Settings) -> OpenAIEmbedder:
    try:
        provider, model = parse_spec(settings.embeddings)
    except ValueError:
        provider, model = settings.embeddings, ""
    if provider != "openai":
        raise SettingsError(f"EMBEDDINGS={settings.embeddings!r}: use 'local' or 'openai:<model>'")
    if not settings.openai_api_key:
        raise SettingsError(f"EMBEDDINGS={settings.embeddings} needs OPENAI_API_KEY")
    config = provider_config(settings)
    embedder = OpenAIEmbedder(openai_client(config), model, resilience=config.resilience)
    try:
        return await embedder.ready()
    except BaseException:
        await embedder.close()
        raise


def _tuning(settings: Settings) -> Tuning:
    return Tuning(
        dense_weight=settings.retrieval_dense_weight, feedback=settings.retrieval_feedback
    )


def _chat_models(catalog: ModelCatalog, specs: list[str], plan: str) -> list[ChatModel]:
    models: list[ChatModel] = []
    for spec in specs:
        reason = catalog.missing(spec)
        if reason is not None:
            log.warning("chat_model_skipped", plan=plan, model=spec, reason=reason)
            continue
        models.append(catalog.model(spec))
        log.info("chat_model_ready", plan=plan, model=spec, position=len(models))
    if not models:
        log.warning("chat_model_fallback", plan=plan, model="extractive")
        models.append(catalog.model("extractive"))
    return models


class CoreProvider(Provider):
    scope = Scope.APP
    clock = provide(SystemClock, provides=Clock)
    ids = provide(RandomIds, provides=IdGenerator)

    @provide
    async def cache(self, settings: Settings) -> AsyncIterator[Cache]:
        if settings.redis_url is None:
            yield MemoryCache()
            return
        redis = RedisCache.from_url(settings.redis_url)
        yield redis
        await redis.close()

    @provide
    def limit_policy(self, settings: Settings) -> LimitPolicy:
        s = settings
        return LimitPolicy(
            by_plan={
                Plan.FREE: PlanLimits(
                    visitor_per_minute=s.rate_limit_free_visitor_per_minute,
                    widget_per_minute=s.rate_limit_free_widget_per_minute,
                    messages_per_month=s.quota_free_messages_per_month,
                ),
                Plan.PAID: PlanLimits(
                    visitor_per_minute=s.rate_limit_paid_visitor_per_minute,
                    widget_per_minute=s.rate_limit_paid_widget_per_minute,
                    messages_per_month=s.quota_paid_messages_per_month,
                ),
            },
            fail_open=s.rate_limit_fail_open,
        )

    @provide
    def parser(self, settings: Settings) -> Iterator[DocumentParser]:
        # Nothing starts here: the parser's child process is spawned by the first document
        # that needs it (not text or Markdown) and stops after PARSE_IDLE_SECONDS idle.
        parser = ParserByType(
            ParseLimits(
                timeout_seconds=settings.parse_timeout_seconds,
                max_pages=settings.parse_max_pages,
                max_elements=settings.parse_max_elements,
                max_unzipped_mb=settings.parse_max_unzipped_mb,
                max_memory_mb=settings.parse_max_memory_mb or None,
                workers=settings.parse_workers,
                idle_seconds=settings.parse_idle_seconds or None,
            )
        )
        yield parser
        parser.close()

    @provide
    def fetcher(self, settings: Settings) -> DocumentFetcher:
        return HttpFetcher(
            timeout=settings.fetch_timeout,
            max_bytes=settings.max_upload_bytes,
            max_redirects=settings.fetch_max_redirects,
            allow_private=settings.fetch_allow_private,
            allowed_networks=settings.allowed_networks,
        )

    @provide
    async def router(self, settings: Settings) -> AsyncIterator[ChatModelRouter]:
        catalog = ModelCatalog(provider_config(settings))
        chains = settings.llm_chains

        def resolve(spec: str) -> ChatModel | None:
            try:
                usable = catalog.missing(spec) is None
            except ValueError:  # a provider this build does not know
                return None
            return catalog.model(spec) if usable else None

        def build() -> PlanModelRouter:
            return PlanModelRouter(
                {plan: _chat_models(catalog, chains[plan.value], plan.value) for plan in Plan},
                resolve,
            )

        # In a thread: an OpenAI model loads its tokenizer's ranks (~0.3 s) when built.
        yield await asyncio.to_thread(build)
        await catalog.close()

    @provide
    def telemetry(self, settings: Settings) -> Telemetry:
        sinks: list[Telemetry] = [LogTelemetry()]
        if settings.metrics_enabled:
            sinks.append(PrometheusTelemetry())
        return FanOutTelemetry(sinks)

    @provide
    def chat_policy(self, settings: Settings) -> ChatPolicy:
        return ChatPolicy(
            max_message_chars=settings.max_message_chars,
            min_score=settings.retrieval_min_score,
            prices=settings.prices,
            budget=PromptBudget(
                history_tokens=settings.prompt_history_tokens,
                context_tokens=settings.prompt_max_tokens,
            ),
        )

    @provide
    def ingestion_policy(self, settings: Settings) -> IngestionPolicy:
        return IngestionPolicy(
            max_document_bytes=settings.max_upload_bytes,
            max_attempts=settings.job_max_attempts,
            heartbeat_seconds=settings.job_lease_seconds / 4,
        )

    @provide
    def readiness(self, database: Database, vectors: VectorStore, cache: Cache) -> Readiness:
        return Readiness(
            required={"database": database.ping, "vector_store": vectors.ping},
            optional={"cache": cache.ping},
        )


class UseCaseProvider(Provider):
    scope = Scope.APP
    services = provide_all(ChatLimits, AnswerCache, RecentHistory, WidgetLookup, QueryEmbeddings)
    use_cases = provide_all(
        AnswerQuestion,
        SubmitDocument,
        SubmitUrl,
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
