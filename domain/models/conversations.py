"""A visitor's conversation: questions, answers with their sources, and votes."""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

import msgspec

from domain.models.usage import Usage


class Role(enum.StrEnum):
    USER = "user"
    ASSISTANT = "assistant"


class Rating(enum.StrEnum):
    UP = "up"
    DOWN = "down"


class Source(msgspec.Struct, frozen=True, kw_only=True):
    index: int
    document_id: UUID
    title: str
    snippet: str
    score: float
    page: int | None = None
    section: str | None = None
    url: str | None = None  # the document's source URL, when it came from one


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
        or says_no_answer(message.content, no_answer_message)
    )


def says_no_answer(text: str, no_answer_message: str) -> bool:
    return text.strip(BLANKS) == no_answer_message.strip(BLANKS)


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


class Answer(msgspec.Struct, frozen=True, kw_only=True):
    conversation_id: UUID
    message_id: UUID
    answer: str
    sources: tuple[Source, ...]
    model: str
    usage: Usage
    finish_reason: str
    cached: bool = False
