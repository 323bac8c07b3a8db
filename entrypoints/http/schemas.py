"""Shapes of request and response bodies that are not core types already."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar.params import Parameter

from application.paging import DEFAULT_LIMIT, MAX_LIMIT
from domain.models import (
    ConversationSummary,
    Document,
    DocumentStatus,
    NonBlank,
    Progress,
    RatedAnswer,
    Rating,
    Stage,
    Text,
    Widget,
)


class ChatBody(msgspec.Struct, frozen=True, kw_only=True):
    # At most MAX_MESSAGE_CHARS after trimming (4,000 unless configured otherwise).
    message: NonBlank
    conversation_id: UUID | None = None
    visitor_id: Annotated[Text, msgspec.Meta(min_length=1, max_length=128)] | None = None
    widget_id: UUID | None = None


class FeedbackBody(msgspec.Struct, frozen=True, kw_only=True):
    message_id: UUID
    rating: Rating
    comment: Text | None = None
    widget_id: UUID | None = None


class TextDocumentBody(msgspec.Struct, frozen=True, kw_only=True):
    widget_id: UUID
    title: Text | None = None
    # A document's own text: a NUL in it is dropped rather than refused (see _from_text).
    text: str | None = None
    url: Annotated[Text, msgspec.Meta(min_length=1, max_length=2048)] | None = None


class Accepted(msgspec.Struct, frozen=True, kw_only=True):
    document_id: UUID
    status: DocumentStatus


class DocumentView(msgspec.Struct, frozen=True, kw_only=True):
    document_id: UUID
    widget_id: UUID
    title: str
    content_type: str
    size_bytes: int
    status: DocumentStatus
    stage: Stage | None
    progress: Progress
    chunk_count: int
    error: str | None
    source_url: str | None
    revision: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, d: Document) -> DocumentView:
        return cls(
            document_id=d.id,
            widget_id=d.widget_id,
            title=d.title,
            content_type=d.content_type,
            size_bytes=d.size_bytes,
            status=d.status,
            stage=d.stage,
            progress=d.progress,
            chunk_count=d.chunk_count,
            error=d.error,
            source_url=d.source_url,
            revision=d.revision,
            created_at=d.created_at,
            updated_at=d.updated_at,
        )


class DocumentList(msgspec.Struct, frozen=True):
    documents: list[DocumentView]


class StatusRequest(msgspec.Struct, frozen=True, kw_only=True):
    document_ids: Annotated[list[UUID], msgspec.Meta(min_length=1, max_length=1000)]


class DocumentStatuses(msgspec.Struct, frozen=True, kw_only=True):
    documents: list[DocumentView]
    missing: list[UUID]


class Health(msgspec.Struct, frozen=True):
    status: str
    version: str


class Readiness(msgspec.Struct, frozen=True):
    status: str
    checks: dict[str, str]


Cursor = Annotated[
    str | None,
    Parameter(description="Where the page starts: the `next_cursor` of the previous page."),
]
Limit = Annotated[
    int | None,
    Parameter(
        description=f"Items per page, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}).",
        ge=1,
        le=MAX_LIMIT,
    ),
]


class WidgetPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[Widget]
    next_cursor: str | None


class ConversationPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[ConversationSummary]
    next_cursor: str | None


class FeedbackPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[RatedAnswer]
    next_cursor: str | None
