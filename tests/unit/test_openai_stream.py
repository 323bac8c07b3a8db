"""The msgspec reader of OpenAI streams (adapters/llm/openai_stream.py) against the SDK's
own: on the same recorded bytes, cut anywhere, both see the same deltas, finishes and
usage, and fail alike."""

from __future__ import annotations

import json

import httpx2
import openai
import pytest

from adapters.llm.openai import send_chat
from adapters.llm.openai_stream import StreamFailedError, chunks
from testkit.recorded_streams import SIZES, RecordedStream

BASE = {"id": "chatcmpl-9x", "object": "chat.completion.chunk", "created": 1733400000}


def _event(payload: object, newline: str = "\n") -> str:
    data = payload if isinstance(payload, str) else json.dumps(payload)
    return f"data: {data}{newline}{newline}"


def _chunk(choices: list[dict[str, object]], **extra: object) -> dict[str, object]:
    return {
        **BASE,
        "model": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": "fp_0aa8d3e20b",
        "service_tier": "default",
        "obfuscation": "3hX",
        "choices": choices,
        "usage": None,
        **extra,
    }


def _choice(delta: dict[str, object], finish: str | None = None, index: int = 0) -> dict:
    return {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}


# As api.openai.com sends a streamed answer with include_usage (fields it adds and the
# service ignores included), then variants other OpenAI-compatible servers send.
OPENAI = "".join(
    [
        _event(_chunk([_choice({"role": "assistant", "content": "", "refusal": None})])),
        _event(_chunk([_choice({"content": "The kettle"})])),
        _event(_chunk([_choice({"content": " has a two-year warranty [1]."})])),
        _event(_chunk([_choice({"content": ' Ünïcode ✓ "quoted" \\n'})])),
        _event(_chunk([_choice({}, "stop")])),
        _event(
            _chunk(
                [],
                usage={
                    "prompt_tokens": 912,
                    "completion_tokens": 14,
                    "total_tokens": 926,
                    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                    "completion_tokens_details": {"reasoning_tokens": 0},
                },
            )
        ),
        _event("[DONE]"),
    ]
)
# llama.cpp / vLLM style: CRLF, comments and event names, no usage, two choices, a cut
# finish ("length"), a null delta content.
COMPATIBLE = "".join(
    [
        ": keep-alive\r\n\r\n",
        "event: message\r\n" + _event(_chunk([_choice({"content": "A"})]), "\r\n"),
        _event(_chunk([_choice({"content": None}), _choice({"content": "B"}, index=1)]), "\r\n"),
        _event(_chunk([_choice({"content": "C"}, "length")]), "\r\n"),
        _event("[DONE]", "\r\n"),
    ]
)
FAILED_MID_STREAM = _event(_chunk([_choice({"content": "Par"})])) + _event(
    {"error": {"message": "The server had an error", "type": "server_error"}}
)


def _client(body: str, size: int) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        api_key="sk-test",
        base_url="http://provider.invalid/v1",
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=RecordedStream(body.encode(), size)),
    )


Seen = tuple[list[tuple[int, str | None, str | None]], tuple[int, int] | None]


async def _by_sdk(body: str, size: int) -> Seen:
    client = _client(body, size)
    stream = await client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "q"}], stream=True
    )
    seen: list[tuple[int, str | None, str | None]] = []
    usage = None
    async for chunk in stream:
        if chunk.usage is not None:
            usage = (chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
        for choice in chunk.choices:
            seen.append((choice.index, choice.delta.content, choice.finish_reason))
    return seen, usage


async def _by_ours(body: str, size: int) -> Seen:
    client = _client(body, size)
    response = await send_chat(client, "gpt-4o-mini", [{"role": "user", "content": "q"}], 64)
    seen: list[tuple[int, str | None, str | None]] = []
    usage = None
    try:
        async for chunk in chunks(response.aiter_bytes()):
            if chunk.usage is not None:
                usage = (chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
            for index, choice in enumerate(chunk.choices):
                content = choice.delta.content if choice.delta is not None else None
                seen.append((index, content, choice.finish_reason))
    finally:
        await response.aclose()
    return seen, usage


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("body", [OPENAI, COMPATIBLE], ids=["openai", "compatible"])
async def test_the_same_deltas_finishes_and_usage_as_the_sdk(body: str, size: int) -> None:
    ours = await _by_ours(body, size)
    assert ours == await _by_sdk(body, size)
    assert ours[0]  # the payloads did carry something to compare


async def test_what_the_recorded_openai_answer_says() -> None:
    deltas, usage = await _by_ours(OPENAI, 5)
    text = "".join(content or "" for _, content, _ in deltas)
    assert text == 'The kettle has a two-year warranty [1]. Ünïcode ✓ "quoted" \\n'
    assert [finish for *_, finish in deltas if finish] == ["stop"]
    assert usage == (912, 14)


@pytest.mark.parametrize("size", SIZES)
async def test_an_error_in_the_stream_fails_both_after_the_same_deltas(size: int) -> None:
    with pytest.raises(openai.APIError, match="The server had an error"):
        await _by_sdk(FAILED_MID_STREAM, size)
    with pytest.raises(StreamFailedError, match="The server had an error"):
        await _by_ours(FAILED_MID_STREAM, size)


async def test_a_chunk_that_is_not_json_is_a_value_error_for_both() -> None:
    body = _event(_chunk([_choice({"content": "ok"})])) + _event("{not json")
    with pytest.raises(ValueError):
        await _by_sdk(body, 64)
    with pytest.raises(ValueError):
        await _by_ours(body, 64)
