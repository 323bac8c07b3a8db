"""An OpenAI chat-completions stream read straight from its bytes with msgspec.

The SDK builds a pydantic `ChatCompletionChunk` per token (and runs its SSE decoder line
by line in Python): most of the CPU an answer costs us (docs/benchmarks.md, scale). The
SDK still sends the request, so its auth, base URL, timeouts and status errors stay its
own; only the body of a 200 is read here, for the three things the service uses: each
choice's `delta.content`, whether a `finish_reason` came, and the final `usage`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec


class _Delta(msgspec.Struct):
    content: str | None = None


class _Choice(msgspec.Struct):
    delta: _Delta | None = None
    finish_reason: str | None = None


class _Usage(msgspec.Struct):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class _StreamError(msgspec.Struct):
    message: str | None = None


class Chunk(msgspec.Struct):
    """What the service reads of a `chat.completion.chunk`; other fields are skipped."""

    choices: list[_Choice] = msgspec.field(default_factory=list)
    usage: _Usage | None = None
    # An `{"error": {...}}` payload in place of a chunk: the provider failed mid-stream.
    error: _StreamError | None = None


class StreamFailedError(Exception):
    """The provider put an error in the stream after its 200 (as the SDK's APIError)."""


_decode_chunk = msgspec.json.Decoder(Chunk).decode
DONE = b"[DONE]"


async def sse_data(blocks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The `data` of each server-sent event, as bytes; comments and other fields skipped.

    Reads every block to the end (after `[DONE]` too) so that an HTTP/1.1 connection can
    go back to the pool."""
    pending = b""
    data: list[bytes] = []
    async for block in blocks:
        lines = (pending + block).split(b"\n")
        pending = lines.pop()
        for line in lines:
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:  # the blank line that ends an event
                if data:
                    yield b"\n".join(data)
                    data = []
            elif line.startswith(b"data:"):
                value = line[5:]
                data.append(value[1:] if value.startswith(b" ") else value)
    if pending.rstrip(b"\r"):
        line = pending.rstrip(b"\r")
        if line.startswith(b"data:"):
            value = line[5:]
            data.append(value[1:] if value.startswith(b" ") else value)
    if data:
        yield b"\n".join(data)


async def chunks(blocks: AsyncIterator[bytes]) -> AsyncIterator[Chunk]:
    """The stream's chunks until `[DONE]`; malformed JSON raises ValueError (DecodeError)."""
    done = False
    async for data in sse_data(blocks):
        if done:
            continue  # drained, not parsed
        if data.startswith(DONE):
            done = True
            continue
        chunk = _decode_chunk(data)
        if chunk.error is not None:
            raise StreamFailedError(chunk.error.message or "An error occurred during streaming")
        yield chunk
