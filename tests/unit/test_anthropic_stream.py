"""The msgspec reader of Anthropic streams (adapters/llm/anthropic_stream.py) against the
SDK's own: on the same recorded bytes, cut anywhere, both see the same text deltas, usage
and end, and fail alike."""

from __future__ import annotations

import json

import anthropic
import httpx2
import pytest

from adapters.llm.anthropic import send_messages
from adapters.llm.anthropic_stream import StreamErrorEvent, events
from testkit.recorded_streams import SIZES, RecordedStream


def _event(payload: object, newline: str = "\n") -> str:
    data = payload if isinstance(payload, str) else json.dumps(payload)
    kind = json.loads(data).get("type", "") if data.startswith("{") else "unknown"
    return f"event: {kind}{newline}data: {data}{newline}{newline}"


def _text(text: str) -> dict[str, object]:
    return {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "text_delta", "text": text},
    }


START = {
    "type": "message_start",
    "message": {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": "claude-haiku-4-5-20251001",
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {
            "input_tokens": 912,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 128,
            "output_tokens": 1,
            "service_tier": "standard",
        },
    },
}
# As api.anthropic.com streams an answer (a ping, a thinking block the service does not
# read, fields it ignores), then the end.
ANTHROPIC = "".join(
    [
        _event(START),
        _event({"type": "ping"}),
        _event(
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "thinking", "thinking": ""},
            }
        ),
        _event(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "thinking_delta", "thinking": "Hm."},
            }
        ),
        _event(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "signature_delta", "signature": "EqQB"},
            }
        ),
        _event({"type": "content_block_stop", "index": 0}),
        _event(
            {
                "type": "content_block_start",
                "index": 1,
                "content_block": {"type": "text", "text": ""},
            }
        ),
        _event(_text("The kettle")),
        _event(_text(" has a two-year warranty [1].")),
        _event(_text(' Ünïcode ✓ "quoted" \\n')),
        _event({"type": "content_block_stop", "index": 1}),
        _event(
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": 14},
            }
        ),
        _event({"type": "message_stop"}),
    ]
)
# CRLF line ends, and a comment line.
CRLF = ": hello\r\n\r\n" + "".join(
    _event(payload, "\r\n")
    for payload in (
        START,
        _text("A"),
        _text("B"),
        {"type": "message_delta", "delta": {}, "usage": {"output_tokens": 2}},
        {"type": "message_stop"},
    )
)
OVERLOADED = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
FAILED_MID_STREAM = _event(START) + _event(_text("Par")) + _event(OVERLOADED)


def _client(body: str, size: int) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(
        api_key="sk-ant-test",
        base_url="http://provider.invalid",
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=RecordedStream(body.encode(), size)),
    )


# The text deltas, then (input tokens with the cache's, output tokens), then whether it stopped.
Seen = tuple[list[str], tuple[int, int], bool]


async def _by_sdk(body: str, size: int) -> Seen:
    stream = await _client(body, size).messages.create(
        model="claude-haiku-4-5",
        max_tokens=64,
        messages=[{"role": "user", "content": "q"}],
        stream=True,
    )
    texts: list[str] = []
    tokens, stopped = (0, 0), False
    async with stream:
        async for event in stream:
            if event.type == "message_start":
                usage = event.message.usage
                cached = (usage.cache_creation_input_tokens or 0) + (
                    usage.cache_read_input_tokens or 0
                )
                tokens = (usage.input_tokens + cached, usage.output_tokens)
            elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                texts.append(event.delta.text)
            elif event.type == "message_delta":
                tokens = (tokens[0], event.usage.output_tokens)
            elif event.type == "message_stop":
                stopped = True
    return texts, tokens, stopped


async def _by_ours(body: str, size: int) -> Seen:
    client = _client(body, size)
    response = await send_messages(
        client, "claude-haiku-4-5", "rules", [{"role": "user", "content": "q"}], 64
    )
    texts: list[str] = []
    tokens, stopped = (0, 0), False
    try:
        async for event in events(response.aiter_bytes()):
            if event.type == "message_start" and event.message and event.message.usage:
                usage = event.message.usage
                cached = (usage.cache_creation_input_tokens or 0) + (
                    usage.cache_read_input_tokens or 0
                )
                tokens = ((usage.input_tokens or 0) + cached, usage.output_tokens or 0)
            elif (
                event.type == "content_block_delta"
                and event.delta
                and event.delta.type == "text_delta"
            ):
                texts.append(event.delta.text or "")
            elif event.type == "message_delta" and event.usage:
                tokens = (tokens[0], event.usage.output_tokens or 0)
            elif event.type == "message_stop":
                stopped = True
    finally:
        await response.aclose()
    return texts, tokens, stopped


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("body", [ANTHROPIC, CRLF], ids=["anthropic", "crlf"])
async def test_the_same_deltas_usage_and_end_as_the_sdk(body: str, size: int) -> None:
    ours = await _by_ours(body, size)
    assert ours == await _by_sdk(body, size)
    assert ours[0]  # the payloads did carry something to compare


async def test_what_the_recorded_anthropic_answer_says() -> None:
    texts, tokens, stopped = await _by_ours(ANTHROPIC, 5)
    assert "".join(texts) == 'The kettle has a two-year warranty [1]. Ünïcode ✓ "quoted" \\n'
    assert tokens == (1040, 14)
    assert stopped


@pytest.mark.parametrize("size", SIZES)
async def test_an_error_event_fails_both_after_the_same_deltas(size: int) -> None:
    seen: list[str] = []

    async def ours() -> None:
        client = _client(FAILED_MID_STREAM, size)
        response = await send_messages(client, "m", "s", [{"role": "user", "content": "q"}], 8)
        async for event in events(response.aiter_bytes()):
            if event.delta is not None and event.delta.text:
                seen.append(event.delta.text)

    with pytest.raises(anthropic.APIStatusError, match="overloaded_error"):
        await _by_sdk(FAILED_MID_STREAM, size)
    with pytest.raises(StreamErrorEvent, match="overloaded_error: Overloaded") as caught:
        await ours()
    assert caught.value.kind == "overloaded_error"
    assert seen == ["Par"]


async def test_an_event_that_is_not_json_is_a_value_error_for_both() -> None:
    body = _event(START) + "event: content_block_delta\ndata: {not json\n\n"
    with pytest.raises(ValueError):
        await _by_sdk(body, 64)
    with pytest.raises(ValueError):
        await _by_ours(body, 64)


async def test_the_request_is_the_one_the_sdk_sends_for_the_same_answer() -> None:
    seen: list[httpx2.Request] = []

    class _Recording(RecordedStream):
        async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
            seen.append(request)
            return await super().handle_async_request(request)

    client = anthropic.AsyncAnthropic(
        api_key="sk-ant-test",
        base_url="http://provider.invalid",
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=_Recording(ANTHROPIC.encode(), 64)),
    )
    messages = [{"role": "user", "content": "q"}]
    response = await send_messages(client, "claude-haiku-4-5", "rules", messages, 64)
    await response.aclose()
    stream = await client.messages.create(
        model="claude-haiku-4-5",
        max_tokens=64,
        system="rules",
        messages=[{"role": "user", "content": "q"}],
        stream=True,
    )
    await stream.close()

    ours, sdks = seen
    assert ours.url == sdks.url == "http://provider.invalid/v1/messages"
    for header in ("authorization", "anthropic-version", "content-type"):
        assert ours.headers[header] == sdks.headers[header]
    assert ours.headers["authorization"] == "Bearer sk-ant-test"
    assert json.loads(ours.content) == json.loads(sdks.content)
