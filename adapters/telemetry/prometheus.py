"""Prometheus metrics of what the core reports; labels stay bounded (no widget or visitor)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from application.ports.jobs import QueueStats
from application.ports.telemetry import ChatRecord, JobRecord
from domain.models import Plan, Rating, Stage

_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_MODEL = ("plan", "provider", "model")

# Module level: a process registers each metric once, however many apps it builds.
CHATS = Counter("chatconnect_chats", "Answered questions", [*_MODEL, "finish_reason", "cached"])
FIRST_TOKEN = Histogram(
    "chatconnect_chat_first_token_seconds",
    "From question to first token",
    _MODEL,
    buckets=_SECONDS,
)
CHAT_DURATION = Histogram(
    "chatconnect_chat_duration_seconds", "From question to last token", _MODEL, buckets=_SECONDS
)
TOKENS = Counter("chatconnect_tokens", "Tokens by direction", [*_MODEL, "direction"])
COST = Counter("chatconnect_cost_usd", "Provider cost in US dollars", _MODEL)
RETRIEVAL = Histogram(
    "chatconnect_retrieval_seconds", "Embedding the question and searching", buckets=_SECONDS
)
SOURCES = Histogram(
    "chatconnect_chat_sources", "Sources handed to the model", buckets=(0, 1, 2, 3, 5, 8, 13, 20)
)
STAGE = Histogram(
    "chatconnect_ingestion_stage_seconds",
    "Time per ingestion stage",
    ["stage"],
    buckets=_SECONDS,
)
JOBS = Counter("chatconnect_ingestion_jobs", "Processed jobs by outcome", ["outcome"])
QUEUE = Gauge(
    "chatconnect_ingestion_queue_jobs",
    "Jobs by state",
    ["state"],
    multiprocess_mode="livemostrecent",
)
OLDEST = Gauge(
    "chatconnect_ingestion_oldest_queued_seconds",
    "Wait of the longest-waiting due job",
    multiprocess_mode="livemostrecent",
)
CACHE = Counter(
    "chatconnect_cache_lookups", "Cache lookups by cache and result", ["cache", "result"]
)
DEGRADED = Counter(
    "chatconnect_cache_degraded", "Operations that went on without the cache", ["operation"]
)
LIMITED = Counter("chatconnect_rate_limited", "Requests refused by a limit", ["scope"])
PROVIDER_ERRORS = Counter(
    "chatconnect_provider_errors", "Failed provider calls", ["provider", "retryable"]
)
PROVIDER_RETRIES = Counter("chatconnect_provider_retries", "Provider calls retried", ["provider"])
BREAKER_OPEN = Gauge(
    "chatconnect_provider_breaker_open",
    "1 while a provider's circuit breaker is open or probing, else 0",
    ["provider"],
    multiprocess_mode="livemax",
)
MODEL_FAILURES = Counter(
    "chatconnect_model_failures",
    "Models that could not answer: failed over before the first token, or interrupted",
    [*_MODEL, "outcome"],
)
FEEDBACK = Counter("chatconnect_feedback", "Visitors' votes on answers", ["rating"])
JOB_STATES = ("queued", "running", "done", "failed")


def provider_and_model(name: str) -> tuple[str, str]:
    provider, _, model = name.partition(":")
    return provider, model or provider


class PrometheusTelemetry:
    def chat_completed(self, record: ChatRecord) -> None:
        labels = (record.plan.value, *provider_and_model(record.model))
        CHATS.labels(*labels, record.finish_reason, str(record.cached).lower()).inc()
        if record.first_token_seconds is not None:
            FIRST_TOKEN.labels(*labels).observe(record.first_token_seconds)
        CHAT_DURATION.labels(*labels).observe(record.total_seconds)
        TOKENS.labels(*labels, "input").inc(record.usage.input_tokens)
        TOKENS.labels(*labels, "output").inc(record.usage.output_tokens)
        COST.labels(*labels).inc(record.usage.cost_usd)
        if record.retrieval_seconds is not None:
            RETRIEVAL.observe(record.retrieval_seconds)
            SOURCES.observe(record.sources)

    def stage_completed(self, stage: Stage, seconds: float) -> None:
        STAGE.labels(stage.value).observe(seconds)

    def job_finished(self, record: JobRecord) -> None:
        JOBS.labels(record.outcome).inc()

    def model_failed(self, plan: Plan, model: str, outcome: str, cause: str) -> None:
        MODEL_FAILURES.labels(plan.value, *provider_and_model(model), outcome).inc()

    def cache_accessed(self, cache: str, hit: bool) -> None:
        CACHE.labels(cache, "hit" if hit else "miss").inc()

    def cache_degraded(self, operation: str) -> None:
        DEGRADED.labels(operation).inc()

    def rate_limited(self, scope: str) -> None:
        LIMITED.labels(scope).inc()

    def provider_retried(self, provider: str, attempt: int, error: str, wait: float) -> None:
        PROVIDER_RETRIES.labels(provider).inc()

    def provider_failed(self, provider: str, retryable: bool) -> None:
        PROVIDER_ERRORS.labels(provider, str(retryable).lower()).inc()

    def breaker_changed(self, provider: str, state: str, cause: str | None) -> None:
        BREAKER_OPEN.labels(provider).set(0 if state == "closed" else 1)

    def feedback_given(self, rating: Rating) -> None:
        FEEDBACK.labels(rating.value).inc()

    @staticmethod
    def queue_observed(stats: QueueStats) -> None:
        for state in JOB_STATES:
            QUEUE.labels(state).set(stats.jobs_by_state.get(state, 0))
        OLDEST.set(stats.oldest_queued_seconds)
