"""An export's rows as JSON Lines or CSV, encoded one message at a time."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

import msgspec

from domain.models import ExportedMessage

COLUMNS = (
    "conversation_id",
    "visitor_id",
    "message_id",
    "role",
    "created_at",
    "content",
    "model",
    "finish_reason",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "sources",
    "rating",
    "comment",
    "rated_at",
)
# A spreadsheet runs a cell starting with one of these as a formula; visitors write these
# cells, so they are quoted, as OWASP advises against CSV injection.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_encode = msgspec.json.Encoder().encode


def _record(row: ExportedMessage) -> dict[str, Any]:
    m = row.message
    return {
        "conversation_id": m.conversation_id,
        "visitor_id": row.visitor_id,
        "message_id": m.id,
        "role": m.role,
        "created_at": m.created_at,
        "content": m.content,
        "model": m.model,
        "finish_reason": m.finish_reason,
        "input_tokens": m.usage.input_tokens,
        "output_tokens": m.usage.output_tokens,
        "cost_usd": m.usage.cost_usd,
        "sources": m.sources,
        # The visitor's vote on an answer (empty when there is none).
        "rating": row.feedback.rating if row.feedback else None,
        "comment": row.feedback.comment if row.feedback else None,
        "rated_at": row.feedback.created_at if row.feedback else None,
    }


async def jsonl(rows: AsyncIterator[ExportedMessage]) -> AsyncIterator[bytes]:
    async for row in rows:
        yield _encode(_record(row)) + b"\n"


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return _encode(value).decode()
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


async def csv_rows(rows: AsyncIterator[ExportedMessage]) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells: list[str]) -> bytes:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue().encode()

    yield line(list(COLUMNS))
    async for row in rows:
        record = _record(row)
        yield line([_cell(record[column]) for column in COLUMNS])
