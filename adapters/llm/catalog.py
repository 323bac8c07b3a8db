"""Chat models built from their specs ("openai:gpt-4o-mini"), sharing one SDK client and
one circuit breaker per provider.

The SDKs are imported when a model of theirs is first built, never at import: anthropic
and openai hold ~55 MB of a process that runs on the local defaults
(docs/benchmarks.md, footprint)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from adapters.llm.extractive import ExtractiveChatModel
from adapters.llm.resilient import ResilientChatModel
from adapters.llm.specs import parse_spec
from adapters.providers.breaker import CircuitBreaker
from adapters.providers.retries import Resilience
from application.ports.models import ChatModel, Embedder
from application.ports.telemetry import Telemetry

if TYPE_CHECKING:
    import anthropic
    import openai

OPENAI_URL = "https://api.openai.com/v1"
ANTHROPIC_URL = "https://api.anthropic.com"


@dataclass(frozen=True, kw_only=True)
class ProviderConfig:
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    anthropic_api_key: str | None = None
    anthropic_base_url: str | None = None
    connect_timeout: float = 5.0
    resilience: Resilience = field(default_factory=Resilience)
    breaker_failures: int = 5
    breaker_reset_seconds: float = 30.0
    max_output_tokens: int = 1024


class ModelCatalog:
    def __init__(
        self, config: ProviderConfig, telemetry: Telemetry, embedder: Embedder | None = None
    ) -> None:
        self._config = config
        self._telemetry = telemetry
        # The service's embedder: the extractive answerer ranks sentences with it.
        self._embedder = embedder
        self._models: dict[str, ChatModel] = {}
        self._openai: openai.AsyncOpenAI | None = None
        self._anthropic: anthropic.AsyncAnthropic | None = None
        self._breakers: dict[str, CircuitBreaker] = {}

    def missing(self, spec: str) -> str | None:
        """Why the model cannot be used here, or None when it can."""
        provider, _ = parse_spec(spec)
        if provider == "openai" and not self._config.openai_api_key:
            return "OPENAI_API_KEY is not set"
        if provider == "anthropic" and not self._config.anthropic_api_key:
            return "ANTHROPIC_API_KEY is not set"
        return None

    def model(self, spec: str) -> ChatModel:
        if spec not in self._models:
            self._models[spec] = self._build(*parse_spec(spec))
        return self._models[spec]

    def _build(self, provider: str, name: str) -> ChatModel:
        if provider == "extractive":
            return ExtractiveChatModel(self._embedder)
        kind: type[ResilientChatModel]
        client: object
        if provider == "openai":
            from adapters.llm.openai import OpenAIChatModel

            kind, client = OpenAIChatModel, self._openai_client()
        else:
            from adapters.llm.anthropic import AnthropicChatModel

            kind, client = AnthropicChatModel, self._anthropic_client()
        return kind(
            client,
            name,
            resilience=self._config.resilience,
            breaker=self._breaker(provider),
            telemetry=self._telemetry,
            max_output_tokens=self._config.max_output_tokens,
        )

    def _breaker(self, provider: str) -> CircuitBreaker:
        if provider not in self._breakers:
            self._breakers[provider] = CircuitBreaker(
                provider,
                telemetry=self._telemetry,
                failures=self._config.breaker_failures,
                reset_seconds=self._config.breaker_reset_seconds,
            )
        return self._breakers[provider]

    def _openai_client(self) -> openai.AsyncOpenAI:
        if self._openai is None:
            self._openai = openai_client(self._config)
        return self._openai

    def _anthropic_client(self) -> anthropic.AsyncAnthropic:
        if self._anthropic is None:
            self._anthropic = anthropic_client(self._config)
        return self._anthropic

    async def close(self) -> None:
        for client in (self._openai, self._anthropic):
            if client is not None:
                await client.close()


def _timeout(config: ProviderConfig) -> openai.Timeout:
    import openai

    # Our deadlines (resilience.py) bound the answer; these bound each socket wait.
    return openai.Timeout(
        config.resilience.total_seconds,
        connect=config.connect_timeout,
        read=config.resilience.first_token_seconds,
    )


def openai_client(config: ProviderConfig) -> openai.AsyncOpenAI:
    """One per app; retries are ours (resilience.py), so the SDK's are off.

    On the SDK's aiohttp transport (its `aiohttp` extra) rather than httpcore's: the same
    SDK, auth and errors, with the HTTP/1.1 work in aiohttp's C parser; a question's
    embedding request 0.92 -> 0.59 ms of CPU, a 20-token streamed answer 1.2 -> 0.7 ms
    (docs/benchmarks.md, scale, round 2)."""
    import openai

    timeout = _timeout(config)
    return openai.AsyncOpenAI(
        api_key=config.openai_api_key,
        base_url=config.openai_base_url or OPENAI_URL,
        max_retries=0,
        timeout=timeout,
        http_client=openai.DefaultAioHttpClient(timeout=timeout),
    )


def anthropic_client(config: ProviderConfig) -> anthropic.AsyncAnthropic:
    """As openai_client: our retries, not the SDK's, on the SDK's aiohttp transport."""
    import anthropic

    timeout = _timeout(config)
    return anthropic.AsyncAnthropic(
        api_key=config.anthropic_api_key,
        base_url=config.anthropic_base_url or ANTHROPIC_URL,
        max_retries=0,
        timeout=timeout,
        open_telemetry=False,
        http_client=anthropic.DefaultAioHttpClient(timeout=timeout),
    )
