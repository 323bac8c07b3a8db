"""One operator log line per chat: what it cost and how fast it was, never what was said."""

from __future__ import annotations

import structlog

from application.ports.telemetry import ChatRecord, JobRecord
from domain.models import Plan, Rating, Stage

log = structlog.get_logger("chatconnect.telemetry")


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


class LogTelemetry:
    def chat_completed(self, record: ChatRecord) -> None:
        log.info(
            "chat_completed",
            widget_id=str(record.widget_id),
            plan=record.plan.value,
            model=record.model,
            finish_reason=record.finish_reason,
            input_tokens=record.usage.input_tokens,
            output_tokens=record.usage.output_tokens,
            cost_usd=record.usage.cost_usd,
            first_token_ms=_ms(record.first_token_seconds),
            total_ms=_ms(record.total_seconds),
            sources=record.sources,
            cached=record.cached,
        )

    def stage_completed(self, stage: Stage, seconds: float) -> None:
        log.debug("ingestion_stage", stage=stage.value, ms=_ms(seconds))

    def job_finished(self, record: JobRecord) -> None:
        level = log.warning if record.outcome == "failed" else log.info
        level(
            "ingestion_job_finished",
            outcome=record.outcome,
            document_id=str(record.document_id),
            title=record.title,
            chunks=record.chunk_count,
            ms=_ms(record.seconds),
            error=record.error,
        )

    def model_failed(self, plan: Plan, model: str, outcome: str, cause: str) -> None:
        log.warning("model_failed", plan=plan.value, model=model, outcome=outcome, cause=cause)

    def cache_accessed(self, cache: str, hit: bool) -> None:
        return None  # too frequent for a log line; the metrics count it

    def cache_degraded(self, operation: str) -> None:
        log.warning("cache_degraded", operation=operation)

    def rate_limited(self, scope: str) -> None:
        log.info("rate_limited", scope=scope)

    def provider_retried(self, provider: str, attempt: int, error: str, wait: float) -> None:
        log.info("llm_retry", provider=provider, attempt=attempt, error=error, wait_seconds=wait)

    def provider_failed(self, provider: str, retryable: bool) -> None:
        return None  # the failover or the error that follows says it; the metrics count it

    def breaker_changed(self, provider: str, state: str, cause: str | None) -> None:
        # An open circuit means answers fail over or fail: an operator wants to see why.
        level = log.warning if state == "open" else log.info
        level("provider_breaker_changed", provider=provider, state=state, cause=cause)

    def feedback_given(self, rating: Rating) -> None:
        log.info("feedback_given", rating=rating.value)
