"""Owner route: a visitor's right to be forgotten."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from dishka.integrations.litestar import FromDishka, inject
from litestar import delete
from litestar.params import FromPath, Parameter

from application.data_rights import EraseVisitor
from domain.models.text import STORABLE_PATTERN
from entrypoints.http.auth import owner_only
from entrypoints.http.openapi import OWNER, owner_errors


@delete(
    "/api/widgets/{widget_id:uuid}/visitors/{visitor_id:str}",
    guards=[owner_only],
    security=OWNER,
    tags=["data rights"],
    responses=owner_errors(404),
)
@inject
async def erase_visitor(
    widget_id: FromPath[UUID],
    visitor_id: Annotated[str, Parameter(pattern=STORABLE_PATTERN)],
    erase: FromDishka[EraseVisitor],
) -> None:
    """Erases everything of one visitor (the `visitor_id` the widget sent) in this widget:
    their conversations and messages, and the cached copies derived from them (history,
    question vectors, cached answers). Usage keeps its tokens and cost, with no link to the
    visitor. Erasing again, or a visitor never seen, is no error. 503 when the cache cannot
    be reached: then nothing was erased."""
    await erase(widget_id, visitor_id)
