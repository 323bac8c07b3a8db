"""Telemetry that remembers what it was told, for assertions."""

from __future__ import annotations

from application.ports.telemetry import ChatRecord, JobRecord
from domain.models import Plan, Rating, Stage


class RecordingTelemetry:
    def __init__(self) -> None:
        self.chats: list[ChatRecord] = []
        self.stages: list[tuple[Stage, float]] = []
        self.jobs: list[str] = []
        self.cache: list[tuple[str, bool]] = []
        self.degraded: list[str] = []
        self.limited: list[str] = []
        self.job_records: list[JobRecord] = []
        self.model_failures: list[tuple[str, str]] = []
        self.model_causes: list[str] = []
        self.retries: list[tuple[str, int]] = []
        self.provider_failures: list[tuple[str, bool]] = []
        self.breakers: list[tuple[str, str, str | None]] = []
        self.feedback: list[Rating] = []

    def chat_completed(self, record: ChatRecord) -> None:
        self.chats.append(record)

    def stage_completed(self, stage: Stage, seconds: float) -> None:
        self.stages.append((stage, seconds))

    def job_finished(self, record: JobRecord) -> None:
        self.jobs.append(record.outcome)
        self.job_records.append(record)

    def model_failed(self, plan: Plan, model: str, outcome: str, cause: str) -> None:
        self.model_failures.append((model, outcome))
        self.model_causes.append(cause)

    def cache_accessed(self, cache: str, hit: bool) -> None:
        self.cache.append((cache, hit))

    def cache_degraded(self, operation: str) -> None:
        self.degraded.append(operation)

    def rate_limited(self, scope: str) -> None:
        self.limited.append(scope)

    def provider_retried(self, provider: str, attempt: int, error: str, wait: float) -> None:
        self.retries.append((provider, attempt))

    def provider_failed(self, provider: str, retryable: bool) -> None:
        self.provider_failures.append((provider, retryable))

    def breaker_changed(self, provider: str, state: str, cause: str | None) -> None:
        self.breakers.append((provider, state, cause))

    def feedback_given(self, rating: Rating) -> None:
        self.feedback.append(rating)
