"""CPU of reading a provider's answers: the SDK's parsing against ours (issue 19).

    .venv/bin/python bench/provider_parsing.py

In one process, against an in-memory HTTP transport (no network, no server: only the
client's work is timed, with `time.process_time`):

- a streamed chat answer of 200 tokens (OpenAI's chunk format, usage included), read
  with the SDK's `AsyncStream[ChatCompletionChunk]` (a pydantic model per chunk) and with
  adapters/llm/openai_stream.py (msgspec, straight from the bytes);
- the same answer as Anthropic streams it, read with the SDK's
  `messages.create(stream=True)` (a pydantic event per token) and with
  adapters/llm/anthropic_stream.py;
- one question's embedding (1,536 dimensions) through `embeddings.create` with
  `encoding_format="float"` (what the service sent before) and through the service's
  OpenAIEmbedder (base64, decoded with numpy).
"""

from __future__ import annotations

import asyncio
import base64
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anthropic
import httpx2
import numpy as np
import openai
from openai.types.chat import ChatCompletion, ChatCompletionChunk

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from adapters.embeddings.openai import OpenAIEmbedder
from adapters.llm.anthropic import send_messages
from adapters.llm.anthropic_stream import events
from adapters.llm.openai import send_chat
from adapters.llm.openai_stream import chunks
from testkit.fakes.telemetry import RecordingTelemetry

TOKENS = 200
ROUNDS = 7
CALLS = 50
BASE = '{"id":"chatcmpl-b","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini",'


def _event(body: str) -> bytes:
    return f"data: {body}\n\n".encode()


STREAM = b"".join(
    [_event(BASE + '"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}')]
    + [
        _event(
            BASE + f'"choices":[{{"index":0,"delta":{{"content":" tok{n}"}},'
            '"logprobs":null,"finish_reason":null}],"usage":null}'
        )
        for n in range(TOKENS)
    ]
    + [
        _event(BASE + '"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}'),
        _event(
            BASE + '"choices":[],"usage":{"prompt_tokens":900,"completion_tokens":200,'
            '"total_tokens":1100}}'
        ),
        b"data: [DONE]\n\n",
    ]
)


def _anthropic_event(kind: str, data: str) -> bytes:
    return f"event: {kind}\ndata: {data}\n\n".encode()


ANTHROPIC_STREAM = b"".join(
    [
        _anthropic_event(
            "message_start",
            '{"type":"message_start","message":{"id":"msg_b","type":"message","role":"assistant",'
            '"content":[],"model":"claude-haiku-4-5","stop_reason":null,"stop_sequence":null,'
            '"usage":{"input_tokens":900,"output_tokens":1}}}',
        ),
        _anthropic_event(
            "content_block_start",
            '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}',
        ),
    ]
    + [
        _anthropic_event(
            "content_block_delta",
            '{"type":"content_block_delta","index":0,'
            f'"delta":{{"type":"text_delta","text":" tok{n}"}}}}',
        )
        for n in range(TOKENS)
    ]
    + [
        _anthropic_event("content_block_stop", '{"type":"content_block_stop","index":0}'),
        _anthropic_event(
            "message_delta",
            '{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},'
            '"usage":{"output_tokens":200}}',
        ),
        _anthropic_event("message_stop", '{"type":"message_stop"}'),
    ]
)
VECTOR = np.random.default_rng(7).standard_normal(1536).astype("<f4")


def _embeddings(request: httpx2.Request) -> bytes:
    as_base64 = json.loads(request.content).get("encoding_format") == "base64"
    embedding = base64.b64encode(VECTOR.tobytes()).decode() if as_base64 else VECTOR.tolist()
    body = {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": embedding}],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 8, "total_tokens": 8},
    }
    return json.dumps(body).encode()


class Recorded(httpx2.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.path.endswith("/embeddings"):
            return httpx2.Response(
                200, content=_embeddings(request), headers={"content-type": "application/json"}
            )
        body = ANTHROPIC_STREAM if request.url.path.endswith("/messages") else STREAM
        return httpx2.Response(200, content=body, headers={"content-type": "text/event-stream"})


client = openai.AsyncOpenAI(
    api_key="sk-bench",
    base_url="http://provider.invalid/v1",
    max_retries=0,
    http_client=httpx2.AsyncClient(transport=Recorded()),
)
anthropic_client = anthropic.AsyncAnthropic(
    api_key="sk-ant-bench",
    base_url="http://provider.invalid",
    max_retries=0,
    http_client=httpx2.AsyncClient(transport=Recorded()),
)
MESSAGES = [{"role": "user", "content": "How do I reset the valve?"}]


async def sdk_stream() -> None:
    stream = await client.post(
        "/chat/completions",
        body={
            "model": "gpt-4o-mini",
            "messages": MESSAGES,
            "stream": True,
            "stream_options": {"include_usage": True},
        },
        options={"security": {"bearer_auth": True}},
        cast_to=ChatCompletion,
        stream=True,
        stream_cls=openai.AsyncStream[ChatCompletionChunk],
    )
    async with stream:
        async for chunk in stream:
            for choice in chunk.choices:
                _ = choice.delta.content


async def our_stream() -> None:
    response = await send_chat(client, "gpt-4o-mini", MESSAGES, 1024)
    try:
        async for chunk in chunks(response.aiter_bytes()):
            for choice in chunk.choices:
                _ = choice.delta.content if choice.delta else None
    finally:
        await response.aclose()


async def sdk_anthropic_stream() -> None:
    stream = await anthropic_client.messages.create(
        model="claude-haiku-4-5",
        max_tokens=1024,
        system="rules",
        messages=MESSAGES,  # type: ignore[arg-type]
        stream=True,
    )
    async with stream:
        async for event in stream:
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                _ = event.delta.text


async def our_anthropic_stream() -> None:
    response = await send_messages(anthropic_client, "claude-haiku-4-5", "rules", MESSAGES, 1024)
    try:
        async for event in events(response.aiter_bytes()):
            if event.type == "content_block_delta" and event.delta is not None:
                _ = event.delta.text
    finally:
        await response.aclose()


async def sdk_embedding() -> None:
    response = await client.embeddings.create(
        model="text-embedding-3-small",
        input=["How do I reset the valve?"],
        encoding_format="float",
    )
    _ = [list(item.embedding) for item in response.data]


embedder = OpenAIEmbedder(client, telemetry=RecordingTelemetry())


async def our_embedding() -> None:
    await embedder.embed(["How do I reset the valve?"])


async def cpu_ms(call: Callable[[], Awaitable[None]]) -> float:
    started = time.process_time()
    for _ in range(CALLS):
        await call()
    return (time.process_time() - started) / CALLS * 1000


async def run() -> dict[str, list[float]]:
    ways = {
        "stream, SDK": sdk_stream,
        "stream, msgspec": our_stream,
        "Anthropic stream, SDK": sdk_anthropic_stream,
        "Anthropic stream, msgspec": our_anthropic_stream,
        "embedding, SDK floats": sdk_embedding,
        "embedding, base64": our_embedding,
    }
    for call in ways.values():
        await cpu_ms(call)
    results: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(ROUNDS):
        for name, call in ways.items():
            results[name].append(await cpu_ms(call))
    return results


def main() -> None:
    results = asyncio.run(run())
    print(f"CPU ms per call, median of {ROUNDS} rounds of {CALLS}:")
    for name, values in results.items():
        print(f"  {name}: {statistics.median(values):.3f}")


if __name__ == "__main__":
    main()
