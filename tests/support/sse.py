"""Server-sent events read as the widget's browser reads them, decoded by httpx-sse."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import httpx
from httpx_sse import EventSource, aconnect_sse

Event = tuple[str, Any]  # its name and its data, decoded from JSON


async def chat_events(
    client: httpx.AsyncClient, body: Mapping[str, Any], headers: Mapping[str, str]
) -> list[Event]:
    """A streamed chat's events, read as they arrive."""
    async with aconnect_sse(
        client, "POST", "/api/widget/chat/stream", json=body, headers=dict(headers)
    ) as source:
        return [(event.event, event.json()) async for event in source.aiter_sse()]


def events_of(response: httpx.Response) -> list[Event]:
    """The events of a stream received whole."""
    return [(event.event, event.json()) for event in EventSource(response).iter_sse()]


def events_in(frames: Iterable[bytes]) -> list[Event]:
    """The events of the frames the service wrote, as a client receiving them reads them."""
    stream = httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content=b"".join(frames)
    )
    return events_of(stream)
