"""Owner route: what visitors thought of a widget's answers, vote by vote."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from dishka.integrations.litestar import FromDishka, inject
from litestar import get
from litestar.params import Parameter

from application.feedback import ListFeedback
from domain.models import Rating
from entrypoints.http.auth import owner_only
from entrypoints.http.openapi import OWNER, owner_errors
from entrypoints.http.params import Since, Until, moment
from entrypoints.http.schemas import Cursor, FeedbackPage, Limit


@get(
    "/api/feedback",
    guards=[owner_only],
    security=OWNER,
    tags=["feedback"],
    responses=owner_errors(404),
)
@inject
async def list_feedback(
    widget_id: Annotated[UUID, Parameter(description="The widget whose answers were rated.")],
    list_votes: FromDishka[ListFeedback],
    rating: Annotated[
        Rating | None, Parameter(description="Only the votes `up`, or only those `down`.")
    ] = None,
    since: Since = "",
    until: Until = "",
    cursor: Cursor = None,
    limit: Limit = None,
) -> FeedbackPage:
    """Visitors' votes on a widget's answers, newest first (by when they voted; the period
    filters on that too; a visitor's later vote on an answer replaces the earlier one), each
    with its comment, the answer it rates, the question that answer followed, and the
    conversation (`conversation_id`, to read it whole at `/api/conversations/{id}`)."""
    page = await list_votes(
        widget_id,
        rating=rating,
        since=moment(since, "since"),
        until=moment(until, "until", end=True),
        cursor=cursor,
        limit=limit,
    )
    return FeedbackPage(items=page.items, next_cursor=page.next_cursor)
