"""What a site owner reads of their visitors' conversations: lists, one in full, exports;
each with what the visitors thought of the answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from uuid import UUID

from application.paging import Page, Position, decode_cursor, page_limit, paged
from application.ports.storage import (
    ConversationFilter,
    ConversationRepository,
    WidgetRepository,
)
from domain.errors import ConversationNotFoundError, InvalidInputError, WidgetNotFoundError
from domain.models import (
    ConversationDetail,
    ConversationOutcome,
    ConversationSummary,
    ExportedMessage,
    Rating,
    Widget,
)


def check_period(since: datetime | None, until: datetime | None) -> None:
    if since is not None and until is not None and since >= until:
        raise InvalidInputError("since must be before until", details={"parameter": "since"})


async def widget_of(widgets: WidgetRepository, widget_id: UUID) -> Widget:
    widget = await widgets.get(widget_id)
    if widget is None:
        raise WidgetNotFoundError(f"widget {widget_id} not found")
    return widget


def _position(summary: ConversationSummary) -> Position:
    return Position(summary.created_at, summary.id)


class ListConversations:
    """A widget's conversations, newest first, a page at a time."""

    def __init__(self, widgets: WidgetRepository, conversations: ConversationRepository) -> None:
        self._widgets = widgets
        self._conversations = conversations

    async def __call__(
        self,
        widget_id: UUID,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        outcome: ConversationOutcome | None = None,
        rating: Rating | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[ConversationSummary]:
        check_period(since, until)
        count = page_limit(limit)
        after = decode_cursor(cursor)
        widget = await widget_of(self._widgets, widget_id)
        where = ConversationFilter(
            since=since,
            until=until,
            outcome=outcome,
            rating=rating,
            no_answer_message=widget.no_answer_message,
        )
        rows = await self._conversations.list_for_widget(widget_id, where, after, count + 1)
        return paged(rows, count, _position)


class ReadConversation:
    def __init__(self, conversations: ConversationRepository) -> None:
        self._conversations = conversations

    async def __call__(self, conversation_id: UUID) -> ConversationDetail:
        found = await self._conversations.detail(conversation_id)
        if found is None:
            raise ConversationNotFoundError(f"conversation {conversation_id} not found")
        return found


class ExportConversations:
    """Every message of a widget in a period, streamed as the caller reads it."""

    def __init__(self, widgets: WidgetRepository, conversations: ConversationRepository) -> None:
        self._widgets = widgets
        self._conversations = conversations

    async def __call__(
        self, widget_id: UUID, since: datetime | None = None, until: datetime | None = None
    ) -> AsyncIterator[ExportedMessage]:
        """Checks everything before the first row, so a refusal is an error response, not
        a stream cut short."""
        check_period(since, until)
        await widget_of(self._widgets, widget_id)
        return self._conversations.export(widget_id, since, until)
