"""Owner routes: create, list, read, change and delete widgets."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from dishka.integrations.litestar import FromDishka, inject
from litestar import delete, get, patch, post
from litestar.params import FromPath, JSONBody, Parameter

from application.widgets import (
    CreateWidget,
    DeleteWidget,
    GetWidget,
    ListWidgets,
    UpdateWidget,
    WidgetChanges,
)
from domain.models import Widget, WidgetSpec
from domain.models.text import STORABLE_PATTERN
from entrypoints.http.auth import owner_only
from entrypoints.http.openapi import OWNER, owner_errors
from entrypoints.http.schemas import Cursor, Limit, WidgetPage

OWNER_ROUTE = {"guards": [owner_only], "security": OWNER, "tags": ["widgets"]}


@post("/api/widgets", **OWNER_ROUTE, responses=owner_errors(400))
@inject
async def create_widget(data: JSONBody[WidgetSpec], create: FromDishka[CreateWidget]) -> Widget:
    """A new widget; `models`, when given, must each be `extractive` or a model of a
    configured provider (422 names the first that is not)."""
    return await create(data)


@get("/api/widgets", **OWNER_ROUTE, responses=owner_errors())
@inject
async def list_widgets(
    tenant_id: Annotated[
        str, Parameter(description="The tenant whose widgets to list.", pattern=STORABLE_PATTERN)
    ],
    list_all: FromDishka[ListWidgets],
    cursor: Cursor = None,
    limit: Limit = None,
) -> WidgetPage:
    """The tenant's widgets, oldest first, a page at a time."""
    page = await list_all(tenant_id, cursor, limit)
    return WidgetPage(items=page.items, next_cursor=page.next_cursor)


@get("/api/widgets/{widget_id:uuid}", **OWNER_ROUTE, responses=owner_errors(404))
@inject
async def read_widget(widget_id: FromPath[UUID], read: FromDishka[GetWidget]) -> Widget:
    return await read(widget_id)


@patch("/api/widgets/{widget_id:uuid}", **OWNER_ROUTE, responses=owner_errors(400, 404))
@inject
async def change_widget(
    widget_id: FromPath[UUID], data: JSONBody[WidgetChanges], change: FromDishka[UpdateWidget]
) -> Widget:
    """Changes the settings given; the others keep their values."""
    return await change(widget_id, data)


@delete("/api/widgets/{widget_id:uuid}", **OWNER_ROUTE, responses=owner_errors(404))
@inject
async def delete_widget(widget_id: FromPath[UUID], remove: FromDishka[DeleteWidget]) -> None:
    """Deletes the widget with its documents and their chunks."""
    await remove(widget_id)
