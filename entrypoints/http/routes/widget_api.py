"""The calls the embedded script makes besides chat: its display settings, and votes."""

from __future__ import annotations

from typing import Any

from dishka.integrations.litestar import FromDishka, inject
from litestar import Request, Response, get, post
from litestar.params import JSONBody

from application.feedback import RateAnswer, Vote
from application.widget_config import WidgetConfig
from application.widgets import AuthorizeVisitor, GetWidget
from entrypoints.http.auth import calling_widget
from entrypoints.http.openapi import WIDGET, WIDGET_SCHEME, widget_errors
from entrypoints.http.schemas import FeedbackBody

FEEDBACK_BODY_LIMIT = 8 * 1024
# Settings changed by the owner reach a page within this long.
CONFIG_MAX_AGE = 60


@get(
    "/api/widget/config",
    tags=["widget"],
    security=[{WIDGET_SCHEME: []}],
    responses=widget_errors(),
)
@inject
async def widget_config(
    request: Request[Any, Any, Any],
    authorize: FromDishka[AuthorizeVisitor],
    get_widget: FromDishka[GetWidget],
) -> Response[WidgetConfig]:
    """Display settings for the script, keyed by X-Widget-Key and checked against Origin."""
    widget = await calling_widget(request, None, authorize, get_widget)
    return Response(
        WidgetConfig.of(widget),
        headers={"Cache-Control": f"private, max-age={CONFIG_MAX_AGE}", "Vary": "Origin"},
    )


@post(
    "/api/widget/feedback",
    status_code=204,
    tags=["widget"],
    request_max_body_size=FEEDBACK_BODY_LIMIT,
    security=WIDGET,
    responses=widget_errors(404),
)
@inject
async def feedback(
    request: Request[Any, Any, Any],
    data: JSONBody[FeedbackBody],
    rate: FromDishka[RateAnswer],
    authorize: FromDishka[AuthorizeVisitor],
    get_widget: FromDishka[GetWidget],
) -> None:
    """A thumbs up or down on one of this widget's answers, with an optional comment (at
    most 1,000 characters); the last vote on an answer wins."""
    widget = await calling_widget(request, data.widget_id, authorize, get_widget)
    await rate(widget, Vote(message_id=data.message_id, rating=data.rating, comment=data.comment))
