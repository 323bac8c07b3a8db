"""Entities and value objects of ChatConnect: plain, immutable, framework-free."""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

import msgspec


class Plan(enum.StrEnum):
    FREE = "free"
    PAID = "paid"


class DocumentStatus(enum.StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class Stage(enum.StrEnum):
    PARSING = "parsing"
    CHUNKING = "chunking"
    EMBEDDING = "embedding"
    INDEXING = "indexing"


class Role(enum.StrEnum):
    USER = "user"
    ASSISTANT = "assistant"


DEFAULT_NO_ANSWER = "I'm sorry, I couldn't find that in this site's documents."
DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant for this website."
DEFAULT_LIMIT_MESSAGE = "You're sending messages too quickly. Please wait a moment."
DEFAULT_TOP_K = 5
MAX_TOP_K = 20


class WidgetSettings(msgspec.Struct, frozen=True, kw_only=True):
    """What a site owner sets on a widget, declared once: creating a widget takes these
    (with its tenant), changing one takes any of them, and storage keeps each as a column."""

    plan: Plan
    name: str
    allowed_origins: tuple[str, ...] = ()
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    no_answer_message: str = DEFAULT_NO_ANSWER
    top_k: int = DEFAULT_TOP_K
    limit_message: str = DEFAULT_LIMIT_MESSAGE
    # None: the plan's limit applies.
    visitor_limit_per_minute: int | None = None
    widget_limit_per_minute: int | None = None
    # Overrides the plan's model chain ("provider:model", in fallback order) when set.
    models: tuple[str, ...] = ()


class WidgetSpec(WidgetSettings, frozen=True, kw_only=True):
    """A new widget, as its owner asks for it."""

    tenant_id: str


class Widget(WidgetSpec, frozen=True, kw_only=True):
    id: UUID
    public_key: str
    created_at: datetime
    updated_at: datetime

    def allows_origin(self, origin: str) -> bool:
        return "*" in self.allowed_origins or origin.rstrip("/") in self.allowed_origins


class Progress(msgspec.Struct, frozen=True):
    done: int = 0
    total: int = 0


class Document(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    widget_id: UUID
    title: str
    content_type: str
    size_bytes: int
    sha256: str
    source_url: str | None = None
    revision: int = 1  # grows when the content at source_url changes
    status: DocumentStatus = DocumentStatus.QUEUED
    stage: Stage | None = None
    progress: Progress = Progress()
    chunk_count: int = 0
    error: str | None = None
    created_at: datetime
    updated_at: datetime


class Element(msgspec.Struct, frozen=True, kw_only=True):
    """One structural piece of a parsed document."""

    text: str
    kind: str = "text"  # "title" or "text"
    page: int | None = None
    level: int | None = None  # a title's depth: 1 for the top heading, 2 below it, …


class Chunk(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    widget_id: UUID
    document_id: UUID
    index: int
    text: str
    title: str
    section: str | None = None
    page: int | None = None

    def in_context(self) -> str:
        """What search sees of a chunk, by words and by meaning: its text is often silent
        on the names its document's title and section heading carry."""
        return "\n".join(part for part in (self.title, self.section, self.text) if part)


class ScoredChunk(msgspec.Struct, frozen=True):
    """A retrieved chunk. `score` orders the hits of one search (for hybrid retrieval, a
    fused score); `similarity` is the question's dense cosine with the chunk, when the store
    measured it: unlike a fused score it means the same for every question and widget."""

    chunk: Chunk
    score: float
    similarity: float | None = None


class Source(msgspec.Struct, frozen=True, kw_only=True):
    index: int
    document_id: UUID
    title: str
    snippet: str
    score: float
    page: int | None = None
    section: str | None = None


class Usage(msgspec.Struct, frozen=True):
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cost_usd + other.cost_usd,
        )


class Message(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    conversation_id: UUID
    role: Role
    content: str
    created_at: datetime
    model: str | None = None
    sources: tuple[Source, ...] = ()
    usage: Usage = Usage()
    finish_reason: str | None = None


class Conversation(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    widget_id: UUID
    visitor_id: str | None
    created_at: datetime


class UsageEvent(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    tenant_id: str
    widget_id: UUID
    conversation_id: UUID
    message_id: UUID
    plan: Plan
    model: str
    usage: Usage
    cached: bool = False
    created_at: datetime


class ModelUsage(msgspec.Struct, frozen=True, kw_only=True):
    model: str
    messages: int
    input_tokens: int
    output_tokens: int
    cost_usd: float


class UsageSummary(msgspec.Struct, frozen=True, kw_only=True):
    tenant_id: str
    since: datetime
    until: datetime
    messages: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    by_model: tuple[ModelUsage, ...]


class Job(msgspec.Struct, frozen=True, kw_only=True):
    """A claimed unit of work: process one document."""

    id: UUID
    document_id: UUID
    attempts: int


class Answer(msgspec.Struct, frozen=True, kw_only=True):
    conversation_id: UUID
    message_id: UUID
    answer: str
    sources: tuple[Source, ...]
    model: str
    usage: Usage
    finish_reason: str
    cached: bool = False
