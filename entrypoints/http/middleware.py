"""Raw ASGI middleware for the two cross-cutting concerns of every request."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from domain.origins import is_serialized_origin

WIDGET_PATHS = frozenset(
    {"/api/widget/chat", "/api/widget/chat/stream", "/api/widget/config", "/api/widget/feedback"}
)
CORS_ORIGIN_STATE = "cors_origin"
WIDGET_STATE = "widget_id"
_access_log = structlog.get_logger("chatconnect.access")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_PREFLIGHT_HEADERS = [
    (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
    (b"access-control-allow-headers", b"Content-Type, X-Widget-Key, X-Request-ID"),
    (b"access-control-max-age", b"600"),
    (b"vary", b"Origin"),
]
_EXPOSED = (b"access-control-expose-headers", b"X-Request-ID, Retry-After")


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


class RequestIdMiddleware:
    """Every log line of a request, and its response, carry one request id; each request
    ends with one access line (route template, status, duration, widget)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = (_header(scope, b"x-request-id") or b"").decode("latin-1")
        request_id = given if _SAFE_ID.match(given) else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        raw_id = request_id.encode()
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", raw_id)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _access_log.info(
                "request",
                method=scope["method"],
                route=scope.get("path_template", "unmatched"),
                status=status,
                ms=round((time.perf_counter() - started) * 1000, 2),
                widget_id=scope.get("state", {}).get(WIDGET_STATE),
            )


class WidgetCorsMiddleware:
    """CORS for the routes a visitor's browser calls; owner routes send none.

    Preflights carry no key, so they are answered for any well-formed origin (one a
    browser could send; anything else gets 403 and no CORS headers); the real request is
    checked against the widget's allow-list by the route, which records the origin in the
    request state for the response headers added here (its answer when accepted, its
    refusal when not).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in WIDGET_PATHS:
            await self.app(scope, receive, send)
            return
        origin = _header(scope, b"origin")
        if scope["method"] == "OPTIONS" and origin is not None:
            if is_serialized_origin(origin.decode("latin-1")):
                status, headers = (
                    204,
                    [(b"access-control-allow-origin", origin), *_PREFLIGHT_HEADERS],
                )
            else:
                status, headers = 403, [(b"vary", b"Origin")]  # no browser's page sent it
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        state: dict[str, Any] = scope.setdefault("state", {})

        async def send_with_cors(message: Message) -> None:
            allowed = state.get(CORS_ORIGIN_STATE)
            if message["type"] == "http.response.start" and allowed:
                message["headers"] = [
                    *message.get("headers", []),
                    (b"access-control-allow-origin", allowed.encode("latin-1")),
                    (b"vary", b"Origin"),
                    _EXPOSED,
                ]
            await send(message)

        await self.app(scope, receive, send_with_cors)
