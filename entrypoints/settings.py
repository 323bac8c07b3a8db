"""Every setting, parsed once from the environment into one typed object."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import msgspec

from adapters.llm.specs import parse_spec
from domain.pricing import DEFAULT_PRICES, Price, parse_prices


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable."""


LIMIT_FIELDS = (
    "rate_limit_free_visitor_per_minute",
    "rate_limit_free_address_per_minute",
    "rate_limit_free_widget_per_minute",
    "rate_limit_paid_visitor_per_minute",
    "rate_limit_paid_address_per_minute",
    "rate_limit_paid_widget_per_minute",
    "quota_free_messages_per_month",
    "quota_paid_messages_per_month",
)
INGESTION_LIMIT_FIELDS = (
    "ingestion_free_documents_per_month",
    "ingestion_free_chunks_per_month",
    "ingestion_paid_documents_per_month",
    "ingestion_paid_chunks_per_month",
)
POSITIVE_FIELDS = (
    "parse_timeout_seconds",
    "parse_max_pages",
    "parse_max_elements",
    "parse_max_unzipped_mb",
    "parse_workers",
    "llm_connect_timeout",
    "llm_first_token_timeout",
    "llm_total_timeout",
    "llm_retry_attempts",
    "llm_breaker_failures",
    "llm_max_output_tokens",
    "prompt_max_tokens",
)


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("./data")
    environment: Literal["development", "production"] = "development"
    admin_token: str | None = None
    database_url: str | None = None
    database_pool_size: int = 10
    # Seconds a request waits for a pooled connection while all are busy, then 503 with
    # Retry-After (`database_busy`); `database_unavailable` is kept for a database down.
    database_pool_wait: float = 30.0
    redis_url: str | None = None
    qdrant_url: str | None = None
    qdrant_api_key: str | None = None
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    anthropic_api_key: str | None = None
    anthropic_base_url: str | None = None
    # The seed's routing: free widgets on GPT-4o-mini, paid ones on Claude Sonnet. A model
    # whose key is unset is skipped at start, so with no keys both plans answer offline.
    llm_free: str = "openai:gpt-4o-mini,extractive"
    llm_paid: str = "anthropic:claude-sonnet-5-5,openai:gpt-4o,extractive"
    embeddings: str = "local"
    llm_connect_timeout: float = 5.0
    llm_first_token_timeout: float = 20.0
    llm_total_timeout: float = 120.0
    llm_retry_attempts: int = 3
    llm_retry_backoff: float = 0.5
    llm_retry_budget: float = 15.0
    llm_breaker_failures: int = 5
    llm_breaker_reset: float = 30.0
    llm_max_output_tokens: int = 1024
    llm_prices: str = ""
    prompt_history_tokens: int = 1000
    prompt_max_tokens: int = 12_000
    worker_in_process: bool = True
    # A worker that died loses its job for this long before another takes it over.
    job_lease_seconds: float = 120.0
    job_max_attempts: int = 3
    worker_concurrency: int = 2
    # How often the worker purges conversations idle past their widget's retention period.
    retention_sweep_seconds: float = 3600.0
    max_upload_bytes: int = 20 * 1024 * 1024
    parse_timeout_seconds: float = 120.0
    parse_max_pages: int = 500
    parse_max_elements: int = 50_000
    parse_max_unzipped_mb: int = 200
    parse_max_memory_mb: int = 2048
    parse_workers: int = 1
    parse_idle_seconds: float = 60.0
    fetch_timeout: float = 15.0
    fetch_max_redirects: int = 5
    fetch_allow_private: bool = False
    fetch_allowed_networks: str = ""
    # Proxies (addresses or networks) whose X-Forwarded-For names the client; empty: none.
    trusted_proxies: str = ""
    max_message_chars: int = 4000
    rate_limit_free_visitor_per_minute: int = 20
    # Per client address, whatever visitor id it sends: above the visitor's limit, as an
    # office or a mobile carrier puts many visitors behind one address.
    rate_limit_free_address_per_minute: int = 60
    rate_limit_free_widget_per_minute: int = 300
    rate_limit_paid_visitor_per_minute: int = 60
    rate_limit_paid_address_per_minute: int = 180
    rate_limit_paid_widget_per_minute: int = 3000
    rate_limit_fail_open: bool = True
    quota_free_messages_per_month: int = 1000
    quota_paid_messages_per_month: int = 100_000
    # Documents and chunks a tenant may take in per calendar month (UTC); 0: no limit.
    ingestion_free_documents_per_month: int = 100
    ingestion_free_chunks_per_month: int = 10_000
    ingestion_paid_documents_per_month: int = 10_000
    ingestion_paid_chunks_per_month: int = 1_000_000
    # A big document yields the embedder after this long when another widget's waits.
    ingestion_slice_seconds: float = 1.0
    # What a tenant's answers may cost per calendar month (USD); unset: no ceiling.
    free_monthly_budget_usd: float | None = None
    paid_monthly_budget_usd: float | None = None
    retrieval_min_score: float = 0.3
    retrieval_min_coverage: float = 1.0
    retrieval_min_sentence_score: float = 0.45
    retrieval_refuse_unheard_of_names: bool = False
    retrieval_dense_weight: float = 0.7
    retrieval_feedback: bool = True
    retrieval_follow_up_weight: float = 0.8
    retrieval_conversation_page_bonus: float = 0.03
    condense_follow_ups: bool = False
    metrics_enabled: bool = True
    # When set, /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`.
    metrics_token: str | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "json", "console"] = "auto"

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise SettingsError(f"PORT must be between 1 and 65535, got {self.port}")
        if self.environment == "production" and not self.admin_token:
            raise SettingsError("ADMIN_TOKEN is required when ENVIRONMENT=production")
        if self.max_upload_bytes <= 0:
            raise SettingsError("MAX_UPLOAD_BYTES must be positive")
        if not 0 < self.max_message_chars <= 100_000:
            raise SettingsError("MAX_MESSAGE_CHARS must be between 1 and 100000")
        if not -1.0 <= self.retrieval_min_score <= 1.0:
            raise SettingsError("RETRIEVAL_MIN_SCORE must be between -1 and 1")
        if not self.retrieval_min_coverage > 0.0:  # NaN too
            raise SettingsError("RETRIEVAL_MIN_COVERAGE must be above 0 (above 1: never)")
        if not self.retrieval_min_sentence_score >= -1.0:  # NaN too
            raise SettingsError("RETRIEVAL_MIN_SENTENCE_SCORE must be at least -1 (above 1: never)")
        if not 0.0 <= self.retrieval_dense_weight <= 1.0:
            raise SettingsError("RETRIEVAL_DENSE_WEIGHT must be between 0 and 1")
        if not 0.0 <= self.retrieval_follow_up_weight <= 1.0:
            raise SettingsError("RETRIEVAL_FOLLOW_UP_WEIGHT must be between 0 and 1")
        if not 0.0 <= self.retrieval_conversation_page_bonus <= 1.0:
            raise SettingsError("RETRIEVAL_CONVERSATION_PAGE_BONUS must be between 0 and 1")
        for name in LIMIT_FIELDS:
            if getattr(self, name) < 1:
                raise SettingsError(f"{name.upper()} must be at least 1")
        for name in INGESTION_LIMIT_FIELDS:
            if getattr(self, name) < 0:
                raise SettingsError(f"{name.upper()} must not be negative (0: no limit)")
        if not 0 < self.ingestion_slice_seconds <= 600:
            raise SettingsError("INGESTION_SLICE_SECONDS must be above 0 and at most 600")
        for name in ("free_monthly_budget_usd", "paid_monthly_budget_usd"):
            if (getattr(self, name) or 0) < 0:
                raise SettingsError(f"{name.upper()} must not be negative (unset: no ceiling)")
        if not 1 <= self.worker_concurrency <= 32:
            raise SettingsError("WORKER_CONCURRENCY must be between 1 and 32")
        if self.retention_sweep_seconds < 1:
            raise SettingsError("RETENTION_SWEEP_SECONDS must be at least 1")
        if self.job_lease_seconds < 1 or self.job_max_attempts < 1:
            raise SettingsError("JOB_LEASE_SECONDS and JOB_MAX_ATTEMPTS must be at least 1")
        for name in POSITIVE_FIELDS:
            if getattr(self, name) <= 0:
                raise SettingsError(f"{name.upper()} must be positive")
        if self.parse_max_memory_mb < 0:
            raise SettingsError("PARSE_MAX_MEMORY_MB must not be negative (0: unbounded)")
        if self.parse_idle_seconds < 0:
            raise SettingsError("PARSE_IDLE_SECONDS must not be negative (0: never stop)")
        if self.fetch_timeout <= 0 or self.fetch_max_redirects < 0:
            raise SettingsError("FETCH_TIMEOUT must be positive, FETCH_MAX_REDIRECTS not negative")
        for network in self.allowed_networks:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise SettingsError(
                    f"FETCH_ALLOWED_NETWORKS: {network!r} is not a network (e.g. 10.1.0.0/16)"
                ) from None
        for network in self.trusted_proxies.split(","):
            try:
                if network.strip():
                    ipaddress.ip_network(network.strip(), strict=False)
            except ValueError:
                raise SettingsError(
                    f"TRUSTED_PROXIES: {network.strip()!r} is not an address or a network"
                ) from None
        if self.database_pool_size < 1:
            raise SettingsError("DATABASE_POOL_SIZE must be at least 1")
        if self.database_pool_wait <= 0:
            raise SettingsError("DATABASE_POOL_WAIT must be a positive number of seconds")
        self._check_llm()

    def _check_llm(self) -> None:
        for name in ("llm_retry_backoff", "llm_retry_budget", "llm_breaker_reset"):
            if getattr(self, name) < 0:
                raise SettingsError(f"{name.upper()} must not be negative")
        if not 0 <= self.prompt_history_tokens < self.prompt_max_tokens:
            raise SettingsError("PROMPT_HISTORY_TOKENS must be within 0..PROMPT_MAX_TOKENS")
        for plan, specs in self.llm_chains.items():
            for spec in specs:
                try:
                    parse_spec(spec)
                except ValueError as error:
                    raise SettingsError(f"LLM_{plan.upper()}: {error}") from None
        try:
            parse_prices(self.llm_prices)
        except ValueError as error:
            raise SettingsError(f"LLM_PRICES: {error}") from None

    @property
    def allowed_networks(self) -> list[str]:
        return [n.strip() for n in self.fetch_allowed_networks.split(",") if n.strip()]

    @property
    def prices(self) -> dict[str, Price]:
        """The built-in price table with LLM_PRICES laid over it."""
        return {**DEFAULT_PRICES, **parse_prices(self.llm_prices)}

    @property
    def llm_chains(self) -> dict[str, list[str]]:
        """Model specs per plan, in fallback order (e.g. "openai:gpt-4o-mini")."""
        return {
            "free": [s.strip() for s in self.llm_free.split(",") if s.strip()],
            "paid": [s.strip() for s in self.llm_paid.split(",") if s.strip()],
        }


ENV_NAMES = {name: name.upper() for name in Settings.__struct_fields__}
_FIELD_IN_ERROR = re.compile(r"at `\$\.(\w+)`")


def _path(kind: type, value: object) -> Path:
    if kind is Path and isinstance(value, str):
        return Path(value)
    raise NotImplementedError


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    raw = {
        field: environ[env]
        for field, env in ENV_NAMES.items()
        if environ.get(env, "").strip() != ""
    }
    try:
        return msgspec.convert(raw, Settings, strict=False, dec_hook=_path)
    except msgspec.ValidationError as error:
        match = _FIELD_IN_ERROR.search(str(error))
        name = ENV_NAMES.get(match.group(1), "?") if match else "?"
        value = raw.get(match.group(1), "") if match else ""
        reason = str(error).split(" - at ")[0]
        raise SettingsError(f"{name}={value!r} is invalid: {reason}") from None
