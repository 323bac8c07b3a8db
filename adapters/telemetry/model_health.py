"""Whether each chat model is answering, as its last call went: what readiness reports."""

from __future__ import annotations

from application.ports.telemetry import ChatRecord, JobRecord
from domain.models import Plan, Rating, Stage


class ModelHealth:
    """A telemetry sink that keeps, per model, the cause of its last failure until it
    answers again. A refused call (a bad key) counts like an outage here: either way the
    model gives no answers, though only an outage opens its circuit breaker."""

    def __init__(self) -> None:
        self._failing: dict[str, str] = {}

    def failing(self, model: str) -> str | None:
        """Why the model's last call failed, or None when it answered (or was never asked)."""
        return self._failing.get(model)

    def model_failed(self, plan: Plan, model: str, outcome: str, cause: str) -> None:
        self._failing[model] = cause

    def chat_completed(self, record: ChatRecord) -> None:
        # Only an answer the model streamed to its end shows it well: a cached answer or the
        # no-answer message never called it.
        if record.finish_reason == "stop" and not record.cached:
            self._failing.pop(record.model, None)

    def stage_completed(self, stage: Stage, seconds: float) -> None:
        return None

    def job_finished(self, record: JobRecord) -> None:
        return None

    def cache_accessed(self, cache: str, hit: bool) -> None:
        return None

    def cache_degraded(self, operation: str) -> None:
        return None

    def rate_limited(self, scope: str) -> None:
        return None

    def provider_retried(self, provider: str, attempt: int, error: str, wait: float) -> None:
        return None

    def provider_failed(self, provider: str, retryable: bool) -> None:
        return None

    def breaker_changed(self, provider: str, state: str, cause: str | None) -> None:
        return None

    def feedback_given(self, rating: Rating) -> None:
        return None
