"""Owner route: the questions a widget could not answer, grouped by meaning."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from dishka.integrations.litestar import FromDishka, inject
from litestar import get
from litestar.params import Parameter

from application.insights import UnansweredInsights, UnansweredQuestions
from entrypoints.http.auth import owner_only
from entrypoints.http.openapi import OWNER, owner_errors
from entrypoints.http.params import Since, Until, moment


@get(
    "/api/insights/unanswered",
    guards=[owner_only],
    security=OWNER,
    tags=["insights"],
    responses=owner_errors(404),
)
@inject
async def unanswered(
    widget_id: Annotated[UUID, Parameter(description="The widget to look into.")],
    find: FromDishka[UnansweredQuestions],
    since: Since = "",
    until: Until = "",
) -> UnansweredInsights:
    """What the documents are missing: the questions answered with the no-answer message or
    with an answer the visitor rated down (the newest 2,000 of the period, by when they
    were answered), grouped by meaning with the embedding model, the most asked first, each
    with how often it was asked and its distinct wordings."""
    return await find(widget_id, moment(since, "since"), moment(until, "until", end=True))
