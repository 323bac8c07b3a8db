"""A circuit breaker per provider: skip one that keeps failing, probe it again later."""

from __future__ import annotations

import time
from collections.abc import Callable

from adapters.llm.errors import ProviderError


class CircuitBreaker:
    """Closed until `failures` failures in a row; then open for `reset_seconds`; then one
    probe at a time goes through (half-open) until one succeeds or fails."""

    def __init__(
        self,
        name: str,
        *,
        failures: int = 5,
        reset_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._threshold = failures
        self._reset_seconds = reset_seconds
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> str:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at < self._reset_seconds:
            return "open"
        return "half_open"

    def before_call(self) -> None:
        """Raises instead of letting a call reach a provider whose circuit is open."""
        state = self.state
        if state == "open" or (state == "half_open" and self._probing):
            raise ProviderError(
                f"{self.name} is skipped after {self._failures} failures in a row",
                retryable=False,
                counts_against_provider=False,
            )
        self._probing = state == "half_open"

    def succeeded(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._probing = False

    def failed(self) -> None:
        self._failures += 1
        self._probing = False
        if self._opened_at is not None or self._failures >= self._threshold:
            self._opened_at = self._clock()

    def released(self) -> None:
        """A call ended with no verdict (the visitor left): let another probe through."""
        self._probing = False
