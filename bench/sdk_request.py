"""What the OpenAI SDK costs to send one chat request: `chat.completions.create()` against
the client's own `post()`, which the service uses (`send_chat` in adapters/llm/openai.py).

    .venv/bin/python bench/sdk_request.py

In this process, no network: the SDK's HTTP client gets a transport that records when the
request reaches it and answers at once with one streamed chunk. Each call streams a prompt
of five ~200-token sources, as the service's prompts carry; rounds alternate the two ways
so the machine's noise falls on both alike. Timed per call: until the transport has the
request (the SDK's cost before the provider) and until the first chunk is parsed.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx2
import openai
from chat_latency import write_doc
from openai.types.chat import ChatCompletion, ChatCompletionChunk

COMMAND = ".venv/bin/python bench/sdk_request.py"
CALLS = 2000
WARM_UP = 200
ROUNDS = 5
CHUNK = (
    b'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini",'
    b'"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\n'
)
SOURCES = "\n\n".join(f"[{n}] Manual\n" + "The valve is reset by hand. " * 30 for n in range(5))
MESSAGES = [
    {"role": "system", "content": SOURCES},
    {"role": "user", "content": "How do I reset the valve?"},
]


class Answering(httpx2.AsyncBaseTransport):
    def __init__(self) -> None:
        self.received_at = 0.0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.received_at = time.perf_counter()
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=CHUNK)


transport = Answering()
client = openai.AsyncOpenAI(
    api_key="sk-bench",
    base_url="http://provider.invalid/v1",
    max_retries=0,
    http_client=httpx2.AsyncClient(transport=transport),
)
Send = Callable[[], Awaitable[openai.AsyncStream[ChatCompletionChunk]]]


async def via_create() -> openai.AsyncStream[ChatCompletionChunk]:
    return await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,  # type: ignore[arg-type]
        max_tokens=1024,
        stream=True,
        stream_options={"include_usage": True},
    )


async def via_post() -> openai.AsyncStream[ChatCompletionChunk]:
    # As send_chat posts it, but parsed by the SDK's stream (this compares the requests).
    return await client.post(
        "/chat/completions",
        body={
            "model": "gpt-4o-mini",
            "messages": MESSAGES,
            "max_tokens": 1024,
            "stream": True,
            "stream_options": {"include_usage": True},
        },
        options={"security": {"bearer_auth": True}},
        cast_to=ChatCompletion,
        stream=True,
        stream_cls=openai.AsyncStream[ChatCompletionChunk],
    )


async def timed(send: Send, calls: int) -> tuple[list[float], list[float]]:
    sent, first = [], []
    for _ in range(calls):
        started = time.perf_counter()
        stream = await send()
        async with stream:
            async for _chunk in stream:
                first.append(time.perf_counter() - started)
                break
        sent.append(transport.received_at - started)
    return sent, first


async def run() -> dict[str, tuple[list[float], list[float]]]:
    ways: dict[str, Send] = {"create()": via_create, "post()": via_post}
    results: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in ways}
    for send in ways.values():
        await timed(send, WARM_UP)
    for _ in range(ROUNDS):
        for name, send in ways.items():
            sent, first = await timed(send, CALLS // ROUNDS)
            results[name][0].extend(sent)
            results[name][1].extend(first)
    return results


def render(results: dict[str, tuple[list[float], list[float]]]) -> str:
    def ms(values: list[float]) -> float:
        return statistics.median(values) * 1000

    rows = [
        f"| {name} | {ms(sent):.3f} | {ms(first):.3f} |" for name, (sent, first) in results.items()
    ]
    saved = ms(results["create()"][0]) - ms(results["post()"][0])
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "\n".join(
        [
            "## OpenAI SDK: create() against post()",
            "",
            f"Measured {now}, 2 cores shared with other work; openai {openai.__version__}.",
            "",
            "```",
            COMMAND,
            "```",
            "",
            f"{CALLS} streamed chat requests each way in one process, alternating in "
            f"{ROUNDS} rounds after {WARM_UP} warm-up calls, against an HTTP transport that "
            "answers at once (no network): medians, ms.",
            "",
            "| call | until the request is sent | until the first chunk is parsed |",
            "|---|---:|---:|",
            *rows,
            "",
            f"`create()` runs the request through the SDK's TypedDict transform first: "
            f"{saved:.2f} ms a question that `post()` with the same plain-JSON body does not "
            "spend. The service and the TTFT benchmark's bare relay both use `post()`.",
        ]
    )


def main() -> None:
    section = render(asyncio.run(run()))
    print(section)
    write_doc(section, name="sdk_request")


if __name__ == "__main__":
    main()
