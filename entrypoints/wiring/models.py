"""Models: the embedder (the local ONNX model unless EMBEDDINGS names a hosted one) and the
chat models of each plan, in fallback order, built from LLM_FREE / LLM_PAID."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import structlog
from dishka import Provider, Scope, provide

from adapters.embeddings.onnx import OnnxEmbedder
from adapters.llm.catalog import ModelCatalog, ProviderConfig, openai_client
from adapters.llm.router import PlanModelRouter
from adapters.llm.specs import parse_spec
from adapters.providers.retries import Resilience
from application.ports.models import ChatModel, ChatModelRouter, Embedder
from application.ports.telemetry import Telemetry
from domain.models import Plan
from entrypoints.settings import Settings, SettingsError
from entrypoints.wiring.configured import Configured

log = structlog.get_logger()


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


def chat_models(catalog: ModelCatalog, specs: list[str], plan: str) -> list[ChatModel]:
    """The plan's usable models in order; a plan left with none answers extractively."""
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


class ModelProvider(Provider):
    scope = Scope.APP

    @provide
    async def local_embedder(self) -> AsyncIterator[Embedder]:
        local = await asyncio.to_thread(OnnxEmbedder)
        yield local
        local.close()

    @provide(when=Configured("openai_embeddings"))
    async def hosted_embedder(
        self, settings: Settings, telemetry: Telemetry
    ) -> AsyncIterator[Embedder]:
        try:
            provider, model = parse_spec(settings.embeddings)
        except ValueError:
            provider, model = settings.embeddings, ""
        if provider != "openai":
            raise SettingsError(
                f"EMBEDDINGS={settings.embeddings!r}: use 'local' or 'openai:<model>'"
            )
        if not settings.openai_api_key:
            raise SettingsError(f"EMBEDDINGS={settings.embeddings} needs OPENAI_API_KEY")
        # Imported only when configured: the SDK is ~14 MB of a worker that may never call it.
        from adapters.embeddings.openai import OpenAIEmbedder

        config = provider_config(settings)
        embedder = OpenAIEmbedder(
            openai_client(config), model, telemetry=telemetry, resilience=config.resilience
        )
        try:
            await embedder.ready()
            log.info("embedder_ready", model=embedder.model, dimension=embedder.dimension)
            yield embedder
        finally:
            await embedder.close()

    @provide
    async def router(
        self, settings: Settings, telemetry: Telemetry, embedder: Embedder
    ) -> AsyncIterator[ChatModelRouter]:
        catalog = ModelCatalog(provider_config(settings), telemetry, embedder)
        chains = settings.llm_chains

        def resolve(spec: str) -> ChatModel | None:
            try:
                usable = catalog.missing(spec) is None
            except ValueError:  # a provider this build does not know
                return None
            return catalog.model(spec) if usable else None

        def explain(spec: str) -> str | None:
            try:
                return catalog.missing(spec)
            except ValueError as error:  # not a provider this build knows
                return str(error)

        def build() -> PlanModelRouter:
            return PlanModelRouter(
                {plan: chat_models(catalog, chains[plan.value], plan.value) for plan in Plan},
                resolve,
                explain,
                offline=catalog.model("extractive"),
            )

        # In a thread: an OpenAI model loads its tokenizer's ranks (~0.3 s) when built.
        yield await asyncio.to_thread(build)
        await catalog.close()
