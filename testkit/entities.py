"""Valid entities with unique ids and keys, for persistence tests; override what matters."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from domain.models import Document, Plan, Widget

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def a_widget(**overrides: Any) -> Widget:
    fields: dict[str, Any] = {
        "id": uuid.uuid4(),
        "tenant_id": "tenant-1",
        "plan": Plan.FREE,
        "name": "Help centre",
        "public_key": "pk_" + secrets.token_hex(8),
        "allowed_origins": ("https://example.com",),
        "created_at": EPOCH,
        "updated_at": EPOCH,
    }
    return Widget(**(fields | overrides))


def a_document(widget_id: UUID, content: bytes = b"hello", **overrides: Any) -> Document:
    fields: dict[str, Any] = {
        "id": uuid.uuid4(),
        "widget_id": widget_id,
        "title": "FAQ",
        "content_type": "text/plain",
        "size_bytes": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "created_at": EPOCH,
        "updated_at": EPOCH,
    }
    return Document(**(fields | overrides))
