"""What is kept for good: widgets, documents, conversations and usage."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol
from uuid import UUID

import msgspec

from application.paging import Position
from domain.models import (
    AskedQuestion,
    Conversation,
    ConversationDetail,
    ConversationOutcome,
    ConversationSummary,
    Document,
    ExportedMessage,
    Feedback,
    Message,
    MonthToDate,
    RatedAnswer,
    Rating,
    UsageEvent,
    UsageGrouping,
    UsageSummary,
    Widget,
)


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

    async def list_for_tenant(
        self, tenant_id: str, after: Position | None, limit: int
    ) -> list[Widget]:
        """Up to `limit` widgets of the tenant, oldest first (created_at, id), after `after`."""
        ...


class DocumentRepository(Protocol):
    """Documents, their status, and their raw bytes until processed."""

    async def add(self, document: Document, content: bytes) -> Document:
        """The stored document: this one, or the one that already holds the same content."""
        ...

    async def get(self, document_id: UUID) -> Document | None: ...

    async def get_many(self, document_ids: Sequence[UUID]) -> list[Document]:
        """Those of the ids that exist, oldest first (created_at, id)."""
        ...

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
        never its content, hash or revision, and nothing when the stored revision is another
        (a worker still on the replaced content)."""
        ...

    async def delete(self, document_id: UUID) -> None: ...


class ConversationFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which conversations of a widget a list shows: started in [since, until), with an
    answer of the given outcome, and with an answer the visitor rated `rating` (each
    filter given applies). An answer is a no-answer when its text is the widget's
    `no_answer_message` (see domain.models.is_no_answer)."""

    since: datetime | None = None
    until: datetime | None = None
    outcome: ConversationOutcome | None = None
    rating: Rating | None = None
    no_answer_message: str = ""


class VisitorTrace(msgspec.Struct, frozen=True, kw_only=True):
    """What a visitor left with a widget: their conversations and the questions they asked
    (whose derived copies, cached, must go with them)."""

    conversation_ids: tuple[UUID, ...]
    questions: tuple[str, ...]


class ConversationRepository(Protocol):
    """Conversations and their messages, as the exchanges saved them."""

    async def get(self, conversation_id: UUID) -> Conversation | None: ...

    async def recent_messages(self, conversation_id: UUID, limit: int) -> list[Message]: ...

    async def list_for_widget(
        self, widget_id: UUID, where: ConversationFilter, after: Position | None, limit: int
    ) -> list[ConversationSummary]:
        """Up to `limit` conversations, newest first (created_at, id descending), after
        `after`; each with its first question, message count, last activity and how many
        of its answers were rated up and down."""
        ...

    async def detail(self, conversation_id: UUID) -> ConversationDetail | None:
        """The conversation with all its messages, oldest first, each answer with its
        vote."""
        ...

    def export(
        self, widget_id: UUID, since: datetime | None, until: datetime | None
    ) -> AsyncIterator[ExportedMessage]:
        """Every message of the widget written in [since, until), conversation by
        conversation (oldest first), each answer with its vote, read as it is consumed:
        never all at once."""
        ...

    async def unanswered_questions(
        self,
        widget_id: UUID,
        where: ConversationFilter,
        limit: int,
    ) -> list[AskedQuestion]:
        """The newest `limit` questions whose answer, given in [since, until), was the
        no-answer message or was rated down, newest first (by that answer)."""
        ...

    async def trace_of_visitor(self, widget_id: UUID, visitor_id: str) -> VisitorTrace: ...

    async def erase_visitor(self, widget_id: UUID, visitor_id: str) -> int:
        """Deletes the visitor's conversations, their messages and the votes on them, in
        one transaction with unlinking their usage events (which keep their tokens and
        cost); returns how many conversations went."""
        ...

    async def purge_idle(self, now: datetime, limit: int) -> list[UUID]:
        """Deletes up to `limit` conversations of widgets with a retention period whose
        last activity is older than it (with their messages and votes); returns their
        ids."""
        ...


class Exchange(msgspec.Struct, frozen=True, kw_only=True):
    """A question and its answer as they are kept: the conversation when this exchange
    opened it, its messages in order, and the usage it is billed."""

    new_conversation: Conversation | None
    messages: tuple[Message, ...]
    usage: UsageEvent


class ExchangeRepository(Protocol):
    """Each question and answer, saved whole or not at all."""

    async def save(self, exchange: Exchange) -> None:
        """The conversation when new, the messages, and the usage event settled as
        `UsageRepository.settle` settles it, in one transaction."""
        ...


class UsageRepository(Protocol):
    """Usage events, summed per tenant and period, and each tenant's month counted as it
    goes: a question's event is reserved when it is admitted and settled when it ends."""

    async def reserve(self, event: UsageEvent, messages_per_month: int) -> MonthToDate | None:
        """Records `event` (pending, no tokens yet) and counts it against its tenant's month
        (the UTC calendar month of `created_at`) in one atomic step, unless that month holds
        `messages_per_month` messages already: then nothing is recorded, and None. Exact
        under concurrency. Returns the month so far, this reservation included."""
        ...

    async def settle(self, event: UsageEvent) -> None:
        """The reserved event (same id) with what its answer used: the tokens and cost count
        toward its month, a failed one is taken off the month's messages. An event settled
        already is left as it was; one never reserved is recorded as if it had been."""
        ...

    async def month_to_date(self, tenant_id: str, widget_id: UUID, at: datetime) -> MonthToDate:
        """The month of `at` so far, for the tenant and one of its widgets."""
        ...

    async def summarize(
        self,
        tenant_id: str,
        since: datetime,
        until: datetime,
        *,
        widget_id: UUID | None = None,
        group_by: UsageGrouping = UsageGrouping.MODEL,
    ) -> UsageSummary:
        """Events with since <= created_at < until (of one widget if given): the billed
        totals, per model and per `group_by`, with failed answers counted apart."""
        ...


class FeedbackFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which votes of a widget a list shows: given in [since, until), of one rating."""

    since: datetime | None = None
    until: datetime | None = None
    rating: Rating | None = None


class FeedbackRepository(Protocol):
    """Visitors' votes on answers, one per answer."""

    async def save(self, feedback: Feedback) -> bool:
        """Keeps the vote, replacing an earlier one on the same answer, when its message is
        an answer in one of its widget's conversations; else stores nothing, False."""
        ...

    async def list_for_widget(
        self, widget_id: UUID, where: FeedbackFilter, after: Position | None, limit: int
    ) -> list[RatedAnswer]:
        """Up to `limit` of the widget's votes, newest first (created_at, message_id
        descending), after `after`; each with the answer it rates and the question that
        answer followed."""
        ...
