"""Visitors' thumbs up or down on an answer, and the owner's read of them."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from application.conversations import check_period, widget_of
from application.paging import Page, Position, decode_cursor, page_limit, paged
from application.ports.storage import FeedbackFilter, FeedbackRepository, WidgetRepository
from application.ports.system import Clock
from application.ports.telemetry import Telemetry
from domain.errors import InvalidInputError, MessageNotFoundError
from domain.models import Feedback, RatedAnswer, Rating, Widget

MAX_COMMENT_CHARS = 1000


class Vote(msgspec.Struct, frozen=True, kw_only=True):
    message_id: UUID
    rating: Rating
    comment: str | None = None


class RateAnswer:
    def __init__(self, feedback: FeedbackRepository, clock: Clock, telemetry: Telemetry) -> None:
        self._feedback = feedback
        self._clock = clock
        self._telemetry = telemetry

    async def __call__(self, widget: Widget, vote: Vote) -> Feedback:
        """Keeps the vote (the last one on an answer wins); the answer must be this
        widget's, else it is unknown here (404), whoever's it is."""
        comment = (vote.comment or "").strip() or None
        if comment is not None and len(comment) > MAX_COMMENT_CHARS:
            raise InvalidInputError(
                f"comment must be at most {MAX_COMMENT_CHARS} characters",
                details={"field": "comment"},
            )
        feedback = Feedback(
            message_id=vote.message_id,
            widget_id=widget.id,
            rating=vote.rating,
            comment=comment,
            created_at=self._clock.now(),
        )
        if not await self._feedback.save(feedback):
            raise MessageNotFoundError(f"no answer {vote.message_id} in this widget's chats")
        self._telemetry.feedback_given(vote.rating)
        return feedback


def _position(item: RatedAnswer) -> Position:
    return Position(item.created_at, item.message_id)


class ListFeedback:
    """The owner's read of a widget's votes, newest first, a page at a time: each with the
    answer it rates and the question before it, so the list reads on its own."""

    def __init__(self, feedback: FeedbackRepository, widgets: WidgetRepository) -> None:
        self._feedback = feedback
        self._widgets = widgets

    async def __call__(
        self,
        widget_id: UUID,
        *,
        rating: Rating | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[RatedAnswer]:
        check_period(since, until)
        count = page_limit(limit)
        after = decode_cursor(cursor)
        await widget_of(self._widgets, widget_id)
        where = FeedbackFilter(since=since, until=until, rating=rating)
        rows = await self._feedback.list_for_widget(widget_id, where, after, count + 1)
        return paged(rows, count, _position)
