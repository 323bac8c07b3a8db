from __future__ import annotations

from collections.abc import Callable, Sequence

import structlog

from application.ports.telemetry import ChatRecord, JobRecord, Telemetry
from domain.models import Plan, Rating, Stage

log = structlog.get_logger()


class FanOutTelemetry:
    """Tells every sink; a failing sink is logged and never breaks a chat or a job."""

    def __init__(self, sinks: Sequence[Telemetry]) -> None:
        self._sinks = tuple(sinks)

    def _each(self, tell: Callable[[Telemetry], None]) -> None:
        for sink in self._sinks:
            try:
                tell(sink)
            except Exception:
                log.exception("telemetry_sink_failed", sink=type(sink).__name__)

    def chat_completed(self, record: ChatRecord) -> None:
        self._each(lambda sink: sink.chat_completed(record))

    def stage_completed(self, stage: Stage, seconds: float) -> None:
        self._each(lambda sink: sink.stage_completed(stage, seconds))

    def job_finished(self, record: JobRecord) -> None:
        self._each(lambda sink: sink.job_finished(record))

    def model_failed(self, plan: Plan, model: str, outcome: str, cause: str) -> None:
        self._each(lambda sink: sink.model_failed(plan, model, outcome, cause))

    def cache_accessed(self, cache: str, hit: bool) -> None:
        self._each(lambda sink: sink.cache_accessed(cache, hit))

    def cache_degraded(self, operation: str) -> None:
        self._each(lambda sink: sink.cache_degraded(operation))

    def rate_limited(self, scope: str) -> None:
        self._each(lambda sink: sink.rate_limited(scope))

    def provider_retried(self, provider: str, attempt: int, error: str, wait: float) -> None:
        self._each(lambda sink: sink.provider_retried(provider, attempt, error, wait))

    def provider_failed(self, provider: str, retryable: bool) -> None:
        self._each(lambda sink: sink.provider_failed(provider, retryable))

    def breaker_changed(self, provider: str, state: str, cause: str | None) -> None:
        self._each(lambda sink: sink.breaker_changed(provider, state, cause))

    def feedback_given(self, rating: Rating) -> None:
        self._each(lambda sink: sink.feedback_given(rating))
