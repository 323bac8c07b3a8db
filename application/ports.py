"""The ports the use cases need; adapters fulfil them."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol, runtime_checkable
from uuid import UUID

import msgspec

from domain.models import (
    Chunk,
    Conversation,
    Document,
    Element,
    Job,
    Message,
    Plan,
    ScoredChunk,
    Stage,
    Usage,
    UsageEvent,
    UsageSummary,
    Widget,
)
from domain.prompts import Prompt

Vector = Sequence[float]


class RetrievalMode(enum.StrEnum):
    """Hybrid is what the service uses; the single-signal modes exist to measure it."""

    DENSE = "dense"
    SPARSE = "sparse"
    HYBRID = "hybrid"


class SearchQuery(msgspec.Struct, frozen=True):
    """A question as text (for BM25) and as the embedder's vector of that text."""

    text: str
    vector: Vector
    mode: RetrievalMode = RetrievalMode.HYBRID


class Embedder(Protocol):
    """Turns texts into vectors of one model's space."""

    @property
    def model(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    async def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


class VectorStore(Protocol):
    """Chunks and their vectors, always read and written within one widget.

    `search` returns at most `limit` chunks of that widget, best first, ties in chunk id
    order, each with the question's dense cosine as `similarity`.
    """

    async def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[Vector]) -> None: ...

    async def stage(self, chunks: Sequence[Chunk], vectors: Sequence[Vector]) -> None:
        """Writes chunks that search does not see until `publish`."""
        ...

    async def publish(self, widget_id: UUID, document_id: UUID, chunk_count: int) -> None:
        """In one step, the document's staged chunks below `chunk_count` replace its live
        ones, so no answer ever mixes two versions of a document; staged leftovers at or
        past `chunk_count` are dropped."""
        ...

    async def search(
        self, widget_id: UUID, query: SearchQuery, limit: int
    ) -> list[ScoredChunk]: ...

    async def delete_document(self, widget_id: UUID, document_id: UUID) -> None:
        """Its live and staged chunks."""
        ...

    async def delete_widget(self, widget_id: UUID) -> None: ...

    async def count(self, widget_id: UUID, document_id: UUID | None = None) -> int: ...

    async def ping(self) -> None: ...


class ChatModel(Protocol):
    """One provider + model; streams text deltas, then exactly one Usage.

    A stream that cannot start raises a DependencyUnavailableError (the next model is
    tried); one that breaks after its first delta raises one too, and the use case keeps
    what was said. Closing the stream early must release the provider's request.
    """

    @property
    def name(self) -> str: ...

    def stream(self, prompt: Prompt) -> AsyncIterator[str | Usage]: ...


@runtime_checkable
class TokenCounter(Protocol):
    """Counts tokens as one model's tokenizer does; a ChatModel may also be one.

    Models that are not are budgeted and billed with domain.tokens.estimate_tokens.
    """

    def count_tokens(self, text: str) -> int: ...


class ChatModelRouter(Protocol):
    """The ordered models to try for a widget: first choice, then fallbacks."""

    def models_for(self, widget: Widget) -> Sequence[ChatModel]: ...


class Cache(Protocol):
    """Best-effort key/value store with TTLs and atomic counters."""

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def incr(self, key: str, ttl_seconds: float) -> int: ...

    async def ping(self) -> None: ...


class Transactions(Protocol):
    """Makes the repository calls inside one block commit or fail together."""

    def begin(self) -> AbstractAsyncContextManager[None]: ...


class WidgetRepository(Protocol):
    """Widgets and their settings."""

    async def add(self, widget: Widget) -> None: ...

    async def get(self, widget_id: UUID) -> Widget | None: ...

    async def get_by_public_key(self, public_key: str) -> Widget | None: ...

    async def update(self, widget: Widget) -> None: ...

    async def delete(self, widget_id: UUID) -> None: ...


class DocumentRepository(Protocol):
    """Documents, their status, and their raw bytes until processed."""

    async def add(self, document: Document, content: bytes) -> Document:
        """The stored document: this one, or the one that already holds the same content."""
        ...

    async def get(self, document_id: UUID) -> Document | None: ...

    async def find_by_hash(self, widget_id: UUID, sha256: str) -> Document | None: ...

    async def find_by_source(self, widget_id: UUID, source_url: str) -> Document | None: ...

    async def replace_content(self, document: Document, content: bytes) -> Document:
        """New bytes (with the given sha256, size, type and title) for a document; its
        revision grows by one and it is queued again. Returns it as stored."""
        ...

    async def list_for_widget(self, widget_id: UUID) -> list[Document]: ...

    async def content(self, document_id: UUID) -> bytes | None: ...

    async def update(self, document: Document) -> None:
        """Writes what processing changes (status, stage, progress, counts, error, title);
        never its content, hash or revision."""
        ...

    async def delete(self, document_id: UUID) -> None: ...


class ConversationRepository(Protocol):
    """Conversations and their messages."""

    async def get(self, conversation_id: UUID) -> Conversation | None: ...

    async def add(self, conversation: Conversation) -> None: ...

    async def add_messages(self, messages: Sequence[Message]) -> None: ...

    async def recent_messages(self, conversation_id: UUID, limit: int) -> list[Message]: ...


class SavedTurn(msgspec.Struct, frozen=True, kw_only=True):
    """A question and its answer as they are kept: the conversation when this turn opened
    it, the turn's messages in order, and the usage it is billed."""

    new_conversation: Conversation | None
    messages: tuple[Message, ...]
    usage: UsageEvent


class TurnRepository(Protocol):
    """Each chat turn, saved whole or not at all."""

    async def save(self, turn: SavedTurn) -> None: ...


class UsageRepository(Protocol):
    """Usage events, summed per tenant and period."""

    async def record(self, event: UsageEvent) -> None: ...

    async def summarize(self, tenant_id: str, since: datetime, until: datetime) -> UsageSummary: ...


class DocumentParser(Protocol):
    """Bytes of a known content type into structural elements."""

    def identify(self, content: bytes, declared: str) -> str:
        """The content type these bytes will be parsed as, judged by their content.

        Raises UnsupportedMediaTypeError when the content is of no supported type, or
        when it contradicts the declared type (a ZIP called a PDF)."""
        ...

    async def parse(self, content: bytes, content_type: str) -> list[Element]:
        """Raises ParseError with a reason a site owner can read; never returns []."""
        ...


class FetchedDocument(msgspec.Struct, frozen=True, kw_only=True):
    content: bytes
    content_type: str  # as the server declared it, without parameters
    url: str  # after redirects
    title: str | None = None


class DocumentFetcher(Protocol):
    """Brings a web page or file in by URL, within size and time bounds."""

    async def fetch(self, url: str) -> FetchedDocument:
        """Raises InvalidInputError for a refused address (private, loopback, …),
        PayloadTooLargeError past the size bound, FetchError when it cannot be had."""
        ...


class QueueStats(msgspec.Struct, frozen=True, kw_only=True):
    jobs_by_state: dict[str, int]
    oldest_queued_seconds: float


class JobQueue(Protocol):
    """Durable hand-off of documents to process; claimed jobs carry a lease."""

    async def stats(self) -> QueueStats: ...

    async def enqueue(self, document_id: UUID) -> None: ...

    async def claim(self) -> Job | None: ...

    async def heartbeat(self, job: Job) -> bool:
        """Extends the lease; False when it was lost (expired and claimed again, or ended)."""
        ...

    async def complete(self, job: Job) -> None: ...

    async def retry(self, job: Job, error: str, delay_seconds: float) -> None: ...

    async def fail(self, job: Job, error: str) -> None: ...


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


class Telemetry(Protocol):
    """Where the core reports what it did, for metrics and operator logs."""

    def chat_completed(self, record: ChatRecord) -> None: ...

    def stage_completed(self, stage: Stage, seconds: float) -> None: ...

    def job_finished(self, outcome: str) -> None: ...

    def model_failed(self, plan: Plan, model: str, outcome: str) -> None:
        """outcome: "failover" (before the first token) or "interrupted" (after it)."""
        ...

    def cache_accessed(self, cache: str, hit: bool) -> None: ...

    def cache_degraded(self, operation: str) -> None: ...

    def rate_limited(self, scope: str) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime: ...


class IdGenerator(Protocol):
    def new_id(self) -> UUID: ...

    def new_key(self) -> str: ...
