"""What a chat turn emits, in order: start, sources, tokens, done."""

from __future__ import annotations

from uuid import UUID

import msgspec

from domain.models import Source, Usage


class ChatStarted(msgspec.Struct, frozen=True):
    conversation_id: UUID
    message_id: UUID
    model: str


class SourcesFound(msgspec.Struct, frozen=True):
    sources: tuple[Source, ...]


class TokenDelta(msgspec.Struct, frozen=True):
    text: str


class ChatFinished(msgspec.Struct, frozen=True):
    usage: Usage
    finish_reason: str
    model: str
    cached: bool = False


ChatEvent = ChatStarted | SourcesFound | TokenDelta | ChatFinished
