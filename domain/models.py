"""Entities and value objects of ChatConnect: plain, immutable, framework-free."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated
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
DEFAULT_GREETING = "Hi! Ask me anything about this site."
DEFAULT_PLACEHOLDER = "Type your question…"
DEFAULT_ACCENT_COLOR = "#2563eb"
MAX_SUGGESTED_QUESTIONS = 4


class WidgetPosition(enum.StrEnum):
    BOTTOM_RIGHT = "bottom-right"
    BOTTOM_LEFT = "bottom-left"


class Rating(enum.StrEnum):
    UP = "up"
    DOWN = "down"


MAX_RETENTION_DAYS = 3650

# Text with something besides blanks in it, as str.strip() sees blanks (JSON Schema's \s,
# which clients check against, lacks \x1c-\x1f and \x85: hence their place here).
NonBlank = Annotated[str, msgspec.Meta(pattern=r"[^\s\x1c-\x1f\x85]")]
ModelSpec = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^(extractive|[a-z][a-z0-9_-]*:\S+)$",
        description="`extractive`, or `provider:model` of a configured provider",
    ),
]
MAX_PER_MINUTE = 1_000_000
PerMinute = Annotated[int, msgspec.Meta(ge=1, le=MAX_PER_MINUTE)]


class WidgetSettings(msgspec.Struct, frozen=True, kw_only=True):
    """What a site owner sets on a widget, declared once: creating a widget takes these
    (with its tenant), changing one takes any of them, and storage keeps each as a column."""

    plan: Plan
    name: NonBlank
    allowed_origins: tuple[str, ...] = ()
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    no_answer_message: str = DEFAULT_NO_ANSWER
    top_k: Annotated[int, msgspec.Meta(ge=1, le=MAX_TOP_K)] = DEFAULT_TOP_K
    limit_message: str = DEFAULT_LIMIT_MESSAGE
    # None: the plan's limit applies.
    visitor_limit_per_minute: PerMinute | None = None
    widget_limit_per_minute: PerMinute | None = None
    # Overrides the plan's model chain ("provider:model", in fallback order) when set.
    models: tuple[ModelSpec, ...] = ()
    # How the widget looks on the page; the script reads these from /api/widget/config.
    title: str = ""  # empty: the widget's name
    greeting: str = DEFAULT_GREETING
    placeholder: str = DEFAULT_PLACEHOLDER
    accent_color: str = DEFAULT_ACCENT_COLOR  # "#rrggbb" or "#rgb"
    position: WidgetPosition = WidgetPosition.BOTTOM_RIGHT
    suggested_questions: tuple[str, ...] = ()
    # Conversations idle this many days are purged by the worker; None keeps them.
    retention_days: Annotated[int, msgspec.Meta(ge=1, le=MAX_RETENTION_DAYS)] | None = None


class WidgetSpec(WidgetSettings, frozen=True, kw_only=True):
    """A new widget, as its owner asks for it."""

    tenant_id: NonBlank


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
    url: str | None = None  # the document's source URL, when it came from one

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
    url: str | None = None  # the document's source URL, when it came from one


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


class Feedback(msgspec.Struct, frozen=True, kw_only=True):
    """A visitor's vote on one answer; a later vote on the same answer replaces it."""

    message_id: UUID
    widget_id: UUID
    rating: Rating
    comment: str | None = None
    created_at: datetime


class MessageFeedback(msgspec.Struct, frozen=True, kw_only=True):
    """A visitor's vote as the owner reads it beside the answer it rates."""

    rating: Rating
    comment: str | None
    created_at: datetime


class RatedMessage(Message, frozen=True, kw_only=True):
    """A message as the owner reads it: an answer carries the visitor's vote, if any."""

    feedback: MessageFeedback | None


class FeedbackCounts(msgspec.Struct, frozen=True, kw_only=True):
    """How many of a conversation's answers its visitor rated up, and down."""

    up: int
    down: int


class RatedAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """A vote as the owner's feedback list shows it: with the answer it rates, the
    question that answer followed, and the conversation they belong to."""

    message_id: UUID
    conversation_id: UUID
    visitor_id: str | None
    rating: Rating
    comment: str | None
    created_at: datetime
    question: str | None
    answer: str


class Conversation(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    widget_id: UUID
    visitor_id: str | None
    created_at: datetime


# How an answer ended, as kept with it: the widget's no-answer message said because nothing
# relevant was found, or no answer at all because every model failed (or one broke mid-way).
FINISH_NO_ANSWER = "no_answer"
FINISH_FAILED = "error"


# What is trimmed before an answer is compared with the no-answer message (PostgreSQL's
# btrim is given the same characters).
BLANKS = " \t\n\r"


def is_no_answer(message: Message, no_answer_message: str) -> bool:
    """An answer that is the widget's no-answer message: said because retrieval found
    nothing, or by a model that found nothing in its sources, as the prompt tells it to."""
    return message.role is Role.ASSISTANT and (
        message.finish_reason == FINISH_NO_ANSWER
        or message.content.strip(BLANKS) == no_answer_message.strip(BLANKS)
    )


class ConversationOutcome(enum.StrEnum):
    """Conversations with at least one answer that was the no-answer message, or failed."""

    NO_ANSWER = "no_answer"
    FAILED = "failed"


class ConversationSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A conversation as a list shows it."""

    id: UUID
    widget_id: UUID
    visitor_id: str | None
    created_at: datetime
    first_question: str | None
    message_count: int
    last_activity: datetime
    feedback: FeedbackCounts


class ConversationDetail(msgspec.Struct, frozen=True, kw_only=True):
    """A conversation in full: its messages, oldest first, answers with their votes."""

    id: UUID
    widget_id: UUID
    visitor_id: str | None
    created_at: datetime
    messages: tuple[RatedMessage, ...]


class ExportedMessage(msgspec.Struct, frozen=True, kw_only=True):
    """One message of an export, with the conversation it belongs to and, for a rated
    answer, the visitor's vote."""

    visitor_id: str | None
    message: Message
    feedback: MessageFeedback | None = None


class AskedQuestion(msgspec.Struct, frozen=True, kw_only=True):
    """A visitor's question, as insights read it."""

    text: str
    asked_at: datetime
    conversation_id: UUID


class UsageEvent(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    tenant_id: str
    widget_id: UUID
    # None once the visitor's conversation was erased: the usage stays, unlinked.
    conversation_id: UUID | None
    message_id: UUID | None
    plan: Plan
    model: str
    usage: Usage
    cached: bool = False
    # No answer came (every model failed, or one broke mid-answer): kept, never billed.
    failed: bool = False
    created_at: datetime


class ModelUsage(msgspec.Struct, frozen=True, kw_only=True):
    model: str
    messages: int
    input_tokens: int
    output_tokens: int
    cost_usd: float


class UsageGrouping(enum.StrEnum):
    DAY = "day"  # the UTC calendar day, "2026-12-05"
    WIDGET = "widget"
    MODEL = "model"


class UsageGroup(msgspec.Struct, frozen=True, kw_only=True):
    """The billed usage of one day, widget or model; `failed` answers are counted apart."""

    key: str
    messages: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    failed: int


class FailedUsage(msgspec.Struct, frozen=True, kw_only=True):
    """Answers that failed: never billed nor counted against the allowance. Tokens and cost
    are what a provider spent before it broke off, reported for the operator."""

    messages: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


class UsageSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A period's billed usage: the totals equal the sum of the groups."""

    tenant_id: str
    since: datetime
    until: datetime
    messages: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    by_model: tuple[ModelUsage, ...]
    widget_id: UUID | None = None
    group_by: UsageGrouping = UsageGrouping.MODEL
    groups: tuple[UsageGroup, ...] = ()
    failed: FailedUsage = FailedUsage()


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
