"""What every hosted chat model shares: one attempt is the provider's, the retries,
deadlines and circuit breaker around it are adapters/providers'."""

from __future__ import annotations

from collections.abc import AsyncIterator

from adapters.providers.breaker import CircuitBreaker
from adapters.providers.retries import Item, Resilience, guarded_stream
from application.ports.telemetry import Telemetry
from domain.prompts import Prompt


class ResilientChatModel:
    provider = ""

    def __init__(
        self,
        client: object,
        model: str,
        *,
        resilience: Resilience,
        breaker: CircuitBreaker,
        telemetry: Telemetry,
        max_output_tokens: int = 1024,
    ) -> None:
        self.name = f"{self.provider}:{model}"
        self._client = client
        self._model = model
        self._resilience = resilience
        self._breaker = breaker
        self._telemetry = telemetry
        self._max_output_tokens = max_output_tokens

    def stream(self, prompt: Prompt) -> AsyncIterator[Item]:
        return guarded_stream(
            lambda: self._attempt(prompt), self._resilience, self._breaker, self._telemetry
        )

    def _attempt(self, prompt: Prompt) -> AsyncIterator[Item]:
        raise NotImplementedError
