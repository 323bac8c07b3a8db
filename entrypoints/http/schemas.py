"""Shapes of request and response bodies that are not core types already."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from domain.models import Document, DocumentStatus, Progress, Rating, Stage


class ChatBody(msgspec.Struct, frozen=True, kw_only=True):
    message: str
    conversation_id: UUID | None = None
    visitor_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)] | None = None
    widget_id: UUID | None = None


class FeedbackBody(msgspec.Struct, frozen=True, kw_only=True):
    message_id: UUID
    rating: Rating
    comment: str | None = None
    widget_id: UUID | None = None


class TextDocumentBody(msgspec.Struct, frozen=True, kw_only=True):
    widget_id: UUID
    title: str | None = None
    text: str | None = None
    url: Annotated[str, msgspec.Meta(min_length=1, max_length=2048)] | None = None


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


class Health(msgspec.Struct, frozen=True):
    status: str
    version: str


class Readiness(msgspec.Struct, frozen=True):
    status: str
    checks: dict[str, str]
