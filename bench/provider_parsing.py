"""CPU of reading a provider's answers: the SDK's parsing against ours (issue 19).

    .venv/bin/python bench/provider_parsing.py

In one process, against an in-memory HTTP transport (no network, no server: only the
client's work is timed, with `time.process_time`):

- a streamed chat answer of 200 tokens (OpenAI's chunk format, usage included), read
  with the SDK's `AsyncStream[ChatCompletionChunk]` (a pydantic model per chunk) and with
  adapters/llm/openai_stream.py (msgspec, straight from the bytes);
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

import httpx2
import numpy as np
import openai
from openai.types.chat import ChatCompletion, ChatCompletionChunk

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from adapters.embeddings.openai import OpenAIEmbedder
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
        return httpx2.Response(200, content=STREAM, headers={"content-type": "text/event-stream"})


client = openai.AsyncOpenAI(
    api_key="sk-bench",
    base_url="http://provider.invalid/v1",
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
