"""The visitor's chat: one answer as JSON, or streamed as Server-Sent Events."""

from __future__ import annotations

from typing import Any

from dishka.integrations.litestar import FromDishka, inject
from litestar import Request, post
from litestar.params import JSONBody
from litestar.response import Stream

from application.chat.answer_question import AnswerQuestion
from application.chat.question import Question
from application.chat.turn import ChatTurn
from application.widgets import AuthorizeVisitor, GetWidget
from domain.errors import RateLimitedError
from domain.models import Answer
from entrypoints.http.auth import calling_widget
from entrypoints.http.client_address import request_address
from entrypoints.http.openapi import WIDGET, widget_errors
from entrypoints.http.schemas import ChatBody
from entrypoints.http.sse import (
    HEADERS,
    STREAM_REFUSED,
    STREAM_RESPONSE,
    error_frame,
    sse_frames,
)

# A message is at most a few thousand characters; nothing legitimate needs more.
CHAT_BODY_LIMIT = 64 * 1024


async def _turn(
    request: Request[Any, Any, Any],
    data: ChatBody,
    answer: AnswerQuestion,
    authorize: AuthorizeVisitor,
    get_widget: GetWidget,
) -> ChatTurn:
    widget = await calling_widget(request, data.widget_id, authorize, get_widget)
    return await answer.start(
        Question(
            widget=widget,
            message=data.message,
            conversation_id=data.conversation_id,
            visitor_id=data.visitor_id,
            client_ip=request_address(request),
        )
    )


@post(
    "/api/widget/chat",
    status_code=200,
    tags=["chat"],
    request_max_body_size=CHAT_BODY_LIMIT,
    security=WIDGET,
    responses=widget_errors(404),
)
@inject
async def chat(
    request: Request[Any, Any, Any],
    data: JSONBody[ChatBody],
    answer: FromDishka[AnswerQuestion],
    authorize: FromDishka[AuthorizeVisitor],
    get_widget: FromDishka[GetWidget],
) -> Answer:
    """Answer a visitor's question from the widget's documents, with numbered sources.
    `model` is the model that answered (after a failover, not the first of the plan)."""
    turn = await _turn(request, data, answer, authorize, get_widget)
    return await turn.collect()


@post(
    "/api/widget/chat/stream",
    status_code=200,
    media_type="text/event-stream",
    tags=["chat"],
    request_max_body_size=CHAT_BODY_LIMIT,
    security=WIDGET,
    responses={**widget_errors(404), 200: STREAM_RESPONSE, 429: STREAM_REFUSED},
)
@inject
async def chat_stream(
    request: Request[Any, Any, Any],
    data: JSONBody[ChatBody],
    answer: FromDishka[AnswerQuestion],
    authorize: FromDishka[AuthorizeVisitor],
    get_widget: FromDishka[GetWidget],
) -> Stream:
    """Stream the answer token by token. Refusals come before the stream: 401/403/422 as
    JSON; a rate limit or spent allowance as 429 whose body is one SSE `error` event."""
    try:
        turn = await _turn(request, data, answer, authorize, get_widget)
    except RateLimitedError as refused:
        return Stream(
            [error_frame(refused.code, refused.message)],
            status_code=429,
            media_type="text/event-stream",
            headers={**HEADERS, "Retry-After": str(refused.retry_after)},
        )
    return Stream(
        sse_frames(turn.events(), request.app.state.heartbeat_seconds),
        media_type="text/event-stream",
        headers=HEADERS,
    )
