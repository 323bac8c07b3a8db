"""CPU of a provider request through the SDK: httpx's own transport (httpcore) against the
SDK's aiohttp transport (`openai.DefaultAioHttpClient`, the `aiohttp` extra), issue 19.

    .venv/bin/python bench/provider_transport.py

Against bench/openai_standin.py (its own process, on 127.0.0.1), in this process, timed
with `time.process_time` (the client's CPU only, the stand-in's is not counted): one
question's embedding (1,536 dimensions, base64) as adapters/embeddings/openai.py sends it,
and a streamed chat answer of 20 tokens (sent at once) as adapters/llm/openai.py sends and
reads it. The two transports alternate, each round a fresh client; medians of all calls.
Prints a table; it goes into docs/benchmarks.md by hand, with the time it was taken.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx2
import openai

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scale import StandIn

from adapters.llm.openai import send_chat
from adapters.llm.openai_stream import chunks

ROUNDS = 4
CALLS = 200
WARM_UP = 20
TOKENS = 20


def client(url: str, aiohttp: bool) -> openai.AsyncOpenAI:
    timeout = openai.Timeout(60.0, connect=5.0)
    extra = {"http_client": openai.DefaultAioHttpClient(timeout=timeout)} if aiohttp else {}
    return openai.AsyncOpenAI(
        api_key="sk-bench", base_url=url + "/v1", max_retries=0, timeout=timeout, **extra
    )


async def embedding(sdk: openai.AsyncOpenAI) -> None:
    response = await sdk.post(
        "/embeddings",
        body={
            "model": "text-embedding-3-small",
            "input": ["how do I descale it?"],
            "encoding_format": "base64",
        },
        options={"security": {"bearer_auth": True}},
        cast_to=httpx2.Response,
    )
    assert response.status_code == 200


async def answer(sdk: openai.AsyncOpenAI) -> None:
    response = await send_chat(sdk, "gpt-4o-mini", [{"role": "user", "content": "hi"}], 100)
    try:
        count = sum([1 async for _ in chunks(response.aiter_bytes())])
    finally:
        await response.aclose()
    assert count >= TOKENS


async def cpu_per_call(call: Callable[[], Awaitable[None]]) -> list[float]:
    for _ in range(WARM_UP):
        await call()
    spent = []
    for _ in range(CALLS):
        started = time.process_time()
        await call()
        spent.append(time.process_time() - started)
    return spent


async def measure(url: str) -> dict[tuple[str, str], list[float]]:
    found: dict[tuple[str, str], list[float]] = {}
    for _ in range(ROUNDS):
        for name, aiohttp in (("httpx (httpcore)", False), ("aiohttp (the SDK's extra)", True)):
            sdk = client(url, aiohttp)
            try:
                for what, call in (("embedding", embedding), ("answer", answer)):
                    found.setdefault((name, what), []).extend(
                        await cpu_per_call(lambda call=call, sdk=sdk: call(sdk))
                    )
            finally:
                await sdk.close()
    return found


def main() -> None:
    standin = StandIn(Path(tempfile.mkdtemp(prefix="chatconnect-transport-")))
    try:
        standin.configure(first_token_ms=0, tokens=TOKENS, tokens_per_second=0)
        found = asyncio.run(measure(standin.url))
    finally:
        standin.stop()
    print("| transport | one question's embedding, CPU ms | a 20-token streamed answer, CPU ms |")
    print("|---|---:|---:|")
    for name in dict.fromkeys(name for name, _ in found):
        cells = [statistics.median(found[(name, what)]) * 1000 for what in ("embedding", "answer")]
        print(f"| {name} | {cells[0]:.3f} | {cells[1]:.3f} |")


if __name__ == "__main__":
    main()
