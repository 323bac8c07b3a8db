"""What is kept for good: widgets, documents, conversations and usage."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol
from uuid import UUID

import msgspec

from domain.models import (
    Conversation,
    Document,
    Feedback,
    Message,
    UsageEvent,
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
    """Conversations and their messages, as the exchanges saved them."""

    async def get(self, conversation_id: UUID) -> Conversation | None: ...

    async def recent_messages(self, conversation_id: UUID, limit: int) -> list[Message]: ...


class Exchange(msgspec.Struct, frozen=True, kw_only=True):
    """A question and its answer as they are kept: the conversation when this exchange
    opened it, its messages in order, and the usage it is billed."""

    new_conversation: Conversation | None
    messages: tuple[Message, ...]
    usage: UsageEvent


class ExchangeRepository(Protocol):
    """Each question and answer, saved whole or not at all."""

    async def save(self, exchange: Exchange) -> None: ...


class UsageRepository(Protocol):
    """Usage events, summed per tenant and period."""

    async def summarize(self, tenant_id: str, since: datetime, until: datetime) -> UsageSummary: ...


class FeedbackRepository(Protocol):
    """Visitors' votes on answers, one per answer."""

    async def save(self, feedback: Feedback) -> bool:
        """Keeps the vote, replacing an earlier one on the same answer, when its message is
        an answer in one of its widget's conversations; else stores nothing, False."""
        ...

    async def list_for_widget(self, widget_id: UUID, limit: int = 100) -> list[Feedback]:
        """The widget's votes, newest first."""
        ...
