"""Errors the core speaks in; adapters translate library failures into these."""

from __future__ import annotations

from typing import Any


class ChatConnectError(Exception):
    code = "error"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInputError(ChatConnectError):
    code = "invalid_input"


class AuthenticationError(ChatConnectError):
    code = "unauthorized"


class OriginNotAllowedError(ChatConnectError):
    code = "origin_not_allowed"


class NotFoundError(ChatConnectError):
    code = "not_found"


class WidgetNotFoundError(NotFoundError):
    code = "widget_not_found"


class DocumentNotFoundError(NotFoundError):
    code = "document_not_found"


class ConversationNotFoundError(NotFoundError):
    code = "conversation_not_found"


class MessageNotFoundError(NotFoundError):
    code = "message_not_found"


class PayloadTooLargeError(ChatConnectError):
    code = "payload_too_large"


class UnsupportedMediaTypeError(ChatConnectError):
    code = "unsupported_media_type"


class RateLimitedError(ChatConnectError):
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.retry_after = retry_after


class ParseError(ChatConnectError):
    """A document could not be turned into text; the reason is shown to the owner."""

    code = "parse_failed"


class FetchError(ChatConnectError):
    """A URL given to ingest could not be fetched; the reason is shown to the owner."""

    code = "fetch_failed"


class DependencyUnavailableError(ChatConnectError):
    code = "dependency_unavailable"


class DatabaseUnavailableError(DependencyUnavailableError):
    code = "database_unavailable"


class DatabaseBusyError(DependencyUnavailableError):
    """Every pooled connection stayed busy for as long as a request may wait: load, not an
    outage; the client is told when to try again."""

    code = "database_busy"

    def __init__(self, message: str, *, retry_after: int, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.retry_after = retry_after


class VectorStoreUnavailableError(DependencyUnavailableError):
    code = "vector_store_unavailable"


class EmbedderUnavailableError(DependencyUnavailableError):
    code = "embedder_unavailable"


class ModelUnavailableError(DependencyUnavailableError):
    code = "model_unavailable"


class CacheUnavailableError(DependencyUnavailableError):
    code = "cache_unavailable"


class QuotaExceededError(RateLimitedError):
    code = "quota_exceeded"
