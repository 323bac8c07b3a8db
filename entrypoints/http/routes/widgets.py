"""Owner routes: create, read, change and delete widgets."""

from __future__ import annotations

from uuid import UUID

from dishka.integrations.litestar import FromDishka, inject
from litestar import delete, get, patch, post
from litestar.params import FromPath, JSONBody

from application.widgets import (
    CreateWidget,
    DeleteWidget,
    GetWidget,
    UpdateWidget,
    WidgetChanges,
)
from domain.models import Widget, WidgetSpec
from entrypoints.http.auth import owner_only


@post("/api/widgets", guards=[owner_only], tags=["widgets"])
@inject
async def create_widget(data: JSONBody[WidgetSpec], create: FromDishka[CreateWidget]) -> Widget:
    return await create(data)


@get("/api/widgets/{widget_id:uuid}", guards=[owner_only], tags=["widgets"])
@inject
async def read_widget(widget_id: FromPath[UUID], read: FromDishka[GetWidget]) -> Widget:
    return await read(widget_id)


@patch("/api/widgets/{widget_id:uuid}", guards=[owner_only], tags=["widgets"])
@inject
async def change_widget(
    widget_id: FromPath[UUID], data: JSONBody[WidgetChanges], change: FromDishka[UpdateWidget]
) -> Widget:
    return await change(widget_id, data)


@delete("/api/widgets/{widget_id:uuid}", guards=[owner_only], tags=["widgets"])
@inject
async def delete_widget(widget_id: FromPath[UUID], remove: FromDishka[DeleteWidget]) -> None:
    """Deletes the widget with its documents and their chunks."""
    await remove(widget_id)
