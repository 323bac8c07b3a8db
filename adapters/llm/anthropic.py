"""Anthropic messages, streamed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anthropic
import httpx2
from anthropic import AsyncAnthropic
from anthropic._constants import RAW_RESPONSE_HEADER

from adapters.llm.anthropic_stream import StreamErrorEvent, events
from adapters.llm.resilient import ResilientChatModel
from adapters.providers.errors import ProviderError, from_sdk
from domain.models import Usage
from domain.prompts import Prompt

PROVIDER = "anthropic"
# Error types of an `error` event inside a 200 stream that a new request may not meet.
_TRANSIENT_TYPES = frozenset({"overloaded_error", "api_error", "rate_limit_error"})
# As in adapters/llm/openai.py: the SDK sends the request and raises its status errors, and
# hands back the response with its body unread, for adapters/llm/anthropic_stream.py.
_UNREAD_BODY = {RAW_RESPONSE_HEADER: "stream"}


async def send_messages(
    client: AsyncAnthropic,
    model: str,
    system: str,
    messages: list[dict[str, str]],
    max_tokens: int,
) -> httpx2.Response:
    """One streamed answer as the service asks for it, through the SDK's own post (its
    auth, version header, base URL, timeouts and status errors), the body left unread."""
    return await client.post(
        "/v1/messages",
        body={
            "model": model,
            "max_tokens": max_tokens,
            "system": system,
            "messages": messages,
            "stream": True,
        },
        options={"headers": _UNREAD_BODY},
        cast_to=httpx2.Response,
    )


def translate(error: Exception) -> ProviderError:
    if isinstance(error, StreamErrorEvent):
        # An `error` event inside the stream: the status line had already said 200.
        transient = error.kind in _TRANSIENT_TYPES
        return ProviderError(f"{PROVIDER} stream error: {error.kind}", retryable=transient)
    return from_sdk(error, PROVIDER, anthropic)


class AnthropicChatModel(ResilientChatModel):
    provider = PROVIDER
    _client: AsyncAnthropic

    async def _attempt(self, prompt: Prompt) -> AsyncIterator[str | Usage]:
        input_tokens = output_tokens = 0
        stopped = False
        try:
            response = await send_messages(
                self._client,
                self._model,
                prompt.system_text(),
                prompt.chat_messages(),
                self._max_output_tokens,
            )
            try:
                async for event in events(response.aiter_bytes()):
                    if event.type == "content_block_delta":
                        delta = event.delta
                        if delta is not None and delta.type == "text_delta" and delta.text:
                            yield delta.text
                    elif event.type == "message_start" and event.message is not None:
                        usage = event.message.usage
                        if usage is not None:
                            input_tokens = (
                                (usage.input_tokens or 0)
                                + (usage.cache_creation_input_tokens or 0)
                                + (usage.cache_read_input_tokens or 0)
                            )
                            output_tokens = usage.output_tokens or 0
                    elif event.type == "message_delta" and event.usage is not None:
                        if event.usage.output_tokens is not None:  # cumulative
                            output_tokens = event.usage.output_tokens
                    elif event.type == "message_stop":
                        stopped = True
            finally:  # also when our reader stops early
                await response.aclose()
        except Exception as error:
            raise translate(error) from error
        if not stopped:
            raise ProviderError(f"{PROVIDER} ended the stream mid-answer", retryable=True)
        yield Usage(input_tokens, output_tokens)
