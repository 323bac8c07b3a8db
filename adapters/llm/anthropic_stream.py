"""An Anthropic messages stream read straight from its bytes with msgspec.

As adapters/llm/openai_stream.py does for OpenAI: the SDK builds a pydantic event per token
and runs its SSE decoder line by line in Python. The SDK still sends the request, so its
auth (`x-api-key`, `anthropic-version`), base URL, timeouts and status errors stay its own;
only the body of a 200 is read here, for what the service uses: the text deltas, the usage
of `message_start` and `message_delta`, whether `message_stop` came, and an `error` event.
Each event's `data` names its own type, as its `event:` line does; pings and the types the
service does not read are decoded to their type alone and passed over.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec

from adapters.llm.openai_stream import sse_data


class Usage(msgspec.Struct):
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None


class _Message(msgspec.Struct):
    usage: Usage | None = None


class _Delta(msgspec.Struct):
    type: str | None = None
    text: str | None = None


class _Error(msgspec.Struct):
    type: str = "error"
    message: str | None = None


class Event(msgspec.Struct):
    """What the service reads of one streamed event; other fields are skipped."""

    type: str
    message: _Message | None = None  # message_start
    delta: _Delta | None = None  # content_block_delta (message_delta's is not read)
    usage: Usage | None = None  # message_delta: the output tokens so far
    error: _Error | None = None  # error


class StreamErrorEvent(Exception):
    """The provider put an `error` event in the stream after its 200."""

    def __init__(self, kind: str, message: str | None) -> None:
        super().__init__(f"{kind}: {message}" if message else kind)
        self.kind = kind


_decode_event = msgspec.json.Decoder(Event).decode


async def events(blocks: AsyncIterator[bytes]) -> AsyncIterator[Event]:
    """The stream's events; malformed JSON raises ValueError (DecodeError)."""
    async for data in sse_data(blocks):
        event = _decode_event(data)
        if event.type == "error":
            error = event.error or _Error()
            raise StreamErrorEvent(error.type, error.message)
        yield event
