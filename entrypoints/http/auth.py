"""Who is calling: the site owner (bearer token) or a visitor's browser (widget key)."""

from __future__ import annotations

import hmac
from typing import Any
from uuid import UUID

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from application.widgets import AuthorizeVisitor, GetWidget
from domain.errors import AuthenticationError
from domain.models import Widget
from domain.origins import is_serialized_origin
from entrypoints.http.middleware import CORS_ORIGIN_STATE, WIDGET_STATE


def _bears(connection: ASGIConnection[Any, Any, Any, Any], expected: bytes) -> bool:
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), expected)


def is_owner(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    return _bears(connection, connection.app.state.admin_token_bytes)


def owner_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard for owner routes."""
    if not is_owner(connection):
        raise AuthenticationError("missing or invalid bearer token")


def metrics_reader(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard of /metrics: with METRICS_TOKEN set, only its bearer may scrape."""
    expected: bytes | None = connection.app.state.metrics_token_bytes
    if expected is not None and not _bears(connection, expected):
        raise AuthenticationError("missing or invalid metrics token (METRICS_TOKEN)")


async def calling_widget(
    connection: ASGIConnection[Any, Any, Any, Any],
    widget_id: UUID | None,
    authorize: AuthorizeVisitor,
    get_widget: GetWidget,
) -> Widget:
    """The widget a chat request speaks for; marks the origin it accepted for CORS."""
    key = connection.headers.get("x-widget-key")
    origin = connection.headers.get("origin")
    if key is None and widget_id is not None and is_owner(connection):
        widget = await get_widget(widget_id)  # a server-side proxy acting for the widget
    else:
        if origin is not None and is_serialized_origin(origin):
            # Set before the check: a refusal (401, 403) is readable too, by that page
            # only, so that the widget can tell the visitor why it is not there (a browser
            # hides the body otherwise); an accepted request keeps it for the answer's
            # headers. An Origin no browser would send is never echoed.
            connection.state[CORS_ORIGIN_STATE] = origin
        widget = await authorize(key, origin)
    connection.state[WIDGET_STATE] = str(widget.id)
    return widget
