"""Where the core and the adapters report what they did, for metrics and operator logs."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

import msgspec

from domain.models import Plan, Rating, Stage, Usage


class ChatRecord(msgspec.Struct, frozen=True, kw_only=True):
    """How one answered (or abandoned) question went; never its text."""

    widget_id: UUID
    plan: Plan
    model: str
    finish_reason: str
    usage: Usage
    sources: int
    retrieval_seconds: float | None
    first_token_seconds: float | None
    total_seconds: float
    cached: bool = False


class JobRecord(msgspec.Struct, frozen=True, kw_only=True):
    """How processing one document went."""

    outcome: str  # ready, failed, retried, deleted, lease_lost
    document_id: UUID
    title: str
    chunk_count: int = 0
    seconds: float
    error: str | None = None


class Telemetry(Protocol):
    def chat_completed(self, record: ChatRecord) -> None: ...

    def stage_completed(self, stage: Stage, seconds: float) -> None: ...

    def job_finished(self, record: JobRecord) -> None: ...

    def model_failed(self, plan: Plan, model: str, outcome: str, cause: str) -> None:
        """outcome: "failover" (before the first token) or "interrupted" (after it); cause:
        what went wrong, in words ("openai answered HTTP 401")."""
        ...

    def cache_accessed(self, cache: str, hit: bool) -> None: ...

    def cache_degraded(self, operation: str) -> None: ...

    def rate_limited(self, scope: str) -> None: ...

    def provider_retried(self, provider: str, attempt: int, error: str, wait: float) -> None:
        """A call to a model provider failed and is tried again after `wait` seconds."""
        ...

    def provider_failed(self, provider: str, retryable: bool) -> None: ...

    def breaker_changed(self, provider: str, state: str, cause: str | None) -> None:
        """A provider's circuit moved to "open", "half_open" or "closed"."""
        ...

    def feedback_given(self, rating: Rating) -> None:
        """A visitor voted on an answer."""
        ...
