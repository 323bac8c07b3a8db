"""The floor under the TTFT benchmark: an app that only relays a provider's first token.

`granian --interface asgi --working-dir bench bare_relay:app` with OPENAI_BASE_URL set.
For each POST of the chat stream's path it sends one chat completion through the OpenAI
SDK (retries off, the same call as ours), with a system message the size of a prompt with
five sources, and streams each delta back as an SSE `token` event: no auth, no limits, no
history, no retrieval, no bookkeeping. What it adds to the provider's first token is what
the SDK, the HTTP server and the network cost on this machine; what the service adds beyond
it is ours.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import openai
from litestar import Litestar, get, post
from litestar.response import Stream

from adapters.llm.openai import send_chat
from adapters.llm.openai_stream import chunks

# About five retrieved chunks of ~200 tokens each, as the service's prompts carry.
SOURCES = "\n\n".join(f"[{n}] Manual\n" + "The valve is reset by hand. " * 30 for n in range(5))
_encode = msgspec.json.Encoder().encode

# On the SDK's aiohttp transport, as the service's client (adapters/llm/catalog.py).
client = openai.AsyncOpenAI(
    api_key=os.environ.get("OPENAI_API_KEY", "sk-bench"),
    base_url=os.environ["OPENAI_BASE_URL"],
    max_retries=0,
    http_client=openai.DefaultAioHttpClient(),
)


async def _tokens(question: str) -> AsyncIterator[bytes]:
    # The SDK call the service makes (adapters/llm/openai.py), and nothing else of ours.
    messages = [{"role": "system", "content": SOURCES}, {"role": "user", "content": question}]
    response = await send_chat(client, "gpt-4o-mini", messages, 1024)
    try:
        async for chunk in chunks(response.aiter_bytes()):
            for choice in chunk.choices:
                text = choice.delta.content if choice.delta is not None else None
                if text:
                    yield b"event: token\ndata: " + _encode({"text": text}) + b"\n\n"
    finally:
        await response.aclose()


@post("/api/widget/chat/stream", status_code=200, media_type="text/event-stream")
async def relay(data: dict[str, Any]) -> Stream:
    return Stream(_tokens(str(data["message"])), media_type="text/event-stream")


@get("/health/ready")
async def ready() -> dict[str, str]:
    return {"status": "ok"}


app = Litestar([relay, ready])
