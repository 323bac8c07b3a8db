"""Owner routes: a widget's conversations listed, read in full, and exported."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from dishka.integrations.litestar import FromDishka, inject
from litestar import get
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Operation
from litestar.params import FromPath, Parameter
from litestar.response import Stream

from application.conversations import ExportConversations, ListConversations, ReadConversation
from domain.models import ConversationDetail, ConversationOutcome, ExportedMessage, Rating
from entrypoints.http.auth import owner_only
from entrypoints.http.export import COLUMNS, csv_rows, jsonl
from entrypoints.http.openapi import OWNER, owner_errors
from entrypoints.http.params import Since, Until, moment
from entrypoints.http.schemas import ConversationPage, Cursor, Limit

OWNER_ROUTE = {"guards": [owner_only], "security": OWNER, "tags": ["conversations"]}
WidgetId = Annotated[UUID, Parameter(description="The widget whose conversations these are.")]


class ExportFormat(enum.StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


_MEDIA = {ExportFormat.JSONL: "application/x-ndjson", ExportFormat.CSV: "text/csv"}


@dataclass
class _Export(Operation):
    """The export's operation: its 200 comes as JSON Lines or CSV, as `format` asks."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse) and ok.content:
            lines = ok.content["application/x-ndjson"]
            ok.content["text/csv"] = OpenAPIMediaType(schema=lines.schema)


@get("/api/conversations", **OWNER_ROUTE, responses=owner_errors(404))
@inject
async def list_conversations(
    widget_id: WidgetId,
    list_all: FromDishka[ListConversations],
    since: Since = "",
    until: Until = "",
    outcome: Annotated[
        ConversationOutcome | None,
        Parameter(
            description="Only conversations with an answer that was the widget's no-answer "
            "message (`no_answer`), or that failed (`failed`: no model could answer)."
        ),
    ] = None,
    rating: Annotated[
        Rating | None,
        Parameter(
            description="Only conversations with an answer the visitor rated `up`, or `down`."
        ),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> ConversationPage:
    """A widget's conversations, newest first (by when they started; the period filters on
    that too), each with its first question, message count, last activity and `feedback`:
    how many of its answers the visitor rated `up` and `down`."""
    page = await list_all(
        widget_id,
        since=moment(since, "since"),
        until=moment(until, "until", end=True),
        outcome=outcome,
        rating=rating,
        cursor=cursor,
        limit=limit,
    )
    return ConversationPage(items=page.items, next_cursor=page.next_cursor)


@get(
    "/api/conversations/export",
    **OWNER_ROUTE,
    responses={
        200: ResponseSpec(
            data_container=str,
            media_type="application/x-ndjson",
            description=(
                "One message per line (JSON Lines, `application/x-ndjson`) or row (CSV with "
                "`format=csv`, `text/csv`, with a header row), conversation by conversation, "
                f"oldest first. Fields: {', '.join(COLUMNS)}; `sources` is a JSON array (in "
                "CSV, its JSON text); `rating` (`up`/`down`), `comment` and `rated_at` are the "
                "visitor's vote on an answer, empty (null) without one. CSV cells starting "
                "with = + - @ are prefixed with `'`, so that spreadsheets do not run them as "
                "formulas."
            ),
            generate_examples=False,
        ),
        **owner_errors(404),
    },
    operation_class=_Export,
)
@inject
async def export_conversations(
    widget_id: WidgetId,
    export: FromDishka[ExportConversations],
    format: Annotated[
        ExportFormat, Parameter(description="`jsonl` (default) or `csv`.")
    ] = ExportFormat.JSONL,
    since: Since = "",
    until: Until = "",
) -> Stream:
    """Every message of a widget in the period (by when it was written), streamed: read
    from the database as it is sent, so an export of any size holds little in memory."""
    rows = await export(widget_id, moment(since, "since"), moment(until, "until", end=True))
    encode = csv_rows if format is ExportFormat.CSV else jsonl
    name = f"conversations-{widget_id}.{format.value}"
    return Stream(
        _closing(encode(rows), rows),
        media_type=_MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def _closing(
    lines: AsyncIterator[bytes], rows: AsyncIterator[ExportedMessage]
) -> AsyncIterator[bytes]:
    """Ends the database cursor as soon as the client is gone, not when collected."""
    try:
        async for line in lines:
            yield line
    finally:
        aclose = getattr(rows, "aclose", None)
        if aclose is not None:
            await aclose()


@get("/api/conversations/{conversation_id:uuid}", **OWNER_ROUTE, responses=owner_errors(404))
@inject
async def read_conversation(
    conversation_id: FromPath[UUID], read: FromDishka[ReadConversation]
) -> ConversationDetail:
    """One conversation in full: each message with its role, content, time and, for
    answers, sources, model, usage, how it finished (`finish_reason`: `stop`, `no_answer`,
    `cancelled` when the visitor left, `error` when it failed) and `feedback`, the
    visitor's vote (`rating`, `comment`, `created_at`; null when they gave none)."""
    return await read(conversation_id)
