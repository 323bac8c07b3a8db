"""The chat stream's events as the OpenAPI document describes them: each event an object
of its name and its data, a JSON text whose own schema is given (`contentSchema`), so that
clients and schema checkers read the events, not an opaque string."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar.params import KwargDefinition

from application.chat.events import ChatFinished, ChatStarted, SourcesFound, TokenDelta


class StreamError(msgspec.Struct, frozen=True):
    code: str
    message: str


def _inline(node: Any, definitions: dict[str, Any]) -> Any:
    """msgspec's schema with its `$defs` references replaced by what they name: inside
    the OpenAPI document a `#/$defs/...` reference would point nowhere."""
    if isinstance(node, dict):
        if set(node) == {"$ref"}:
            return _inline(definitions[node["$ref"].rsplit("/", 1)[-1]], definitions)
        return {key: _inline(value, definitions) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, definitions) for item in node]
    return node


def _json_of(kind: type) -> KwargDefinition:
    schema = msgspec.json.schema(kind)
    content = _inline({"$ref": schema["$ref"]}, schema.get("$defs", {}))
    return KwargDefinition(
        schema_extra={"contentMediaType": "application/json", "contentSchema": content}
    )


class StartEvent(msgspec.Struct, frozen=True):
    """First: the conversation, the answer's message id, the model planned first."""

    event: Literal["start"]
    data: Annotated[str, _json_of(ChatStarted)]


class SourcesEvent(msgspec.Struct, frozen=True):
    """What the answer cites as [n]; empty when nothing relevant was found."""

    event: Literal["sources"]
    data: Annotated[str, _json_of(SourcesFound)]


class TokenEvent(msgspec.Struct, frozen=True):
    """A piece of the answer, repeated."""

    event: Literal["token"]
    data: Annotated[str, _json_of(TokenDelta)]


class DoneEvent(msgspec.Struct, frozen=True):
    """Last: usage, finish_reason and the model that answered (after a failover, not the
    one `start` named)."""

    event: Literal["done"]
    data: Annotated[str, _json_of(ChatFinished)]


class ErrorEvent(msgspec.Struct, frozen=True):
    """Instead of what was to come: the stream ends after it."""

    event: Literal["error"]
    data: Annotated[str, _json_of(StreamError)]


ChatStreamEvent = StartEvent | SourcesEvent | TokenEvent | DoneEvent | ErrorEvent
