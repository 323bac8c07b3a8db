"""A circuit breaker per provider: skip one that keeps failing, probe it again later."""

from __future__ import annotations

import time
from collections.abc import Callable

from adapters.providers.errors import ProviderError
from application.ports.telemetry import Telemetry


class CircuitBreaker:
    """Closed until `failures` failures in a row; then open for `reset_seconds`; then one
    probe at a time goes through (half-open) until one succeeds or fails. Each change of
    state is reported, with the failure that caused an opening."""

    def __init__(
        self,
        name: str,
        *,
        telemetry: Telemetry,
        failures: int = 5,
        reset_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._telemetry = telemetry
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
        if state == "half_open":
            self._probing = True
            self._telemetry.breaker_changed(self.name, "half_open", None)

    def succeeded(self) -> None:
        was_open = self._opened_at is not None
        self._failures = 0
        self._opened_at = None
        self._probing = False
        if was_open:
            self._telemetry.breaker_changed(self.name, "closed", None)

    def failed(self, cause: str) -> None:
        self._failures += 1
        self._probing = False
        if self._opened_at is not None or self._failures >= self._threshold:
            self._opened_at = self._clock()
            self._telemetry.breaker_changed(self.name, "open", cause)

    def released(self) -> None:
        """A call ended with no verdict (the visitor left): let another probe through."""
        self._probing = False
