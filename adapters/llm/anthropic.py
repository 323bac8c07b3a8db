"""Anthropic messages, streamed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anthropic
from anthropic import AsyncAnthropic

from adapters.llm.resilient import ResilientChatModel
from adapters.providers.errors import ProviderError, from_sdk
from domain.models import Usage
from domain.prompts import Prompt
from domain.tokens import estimate_tokens

PROVIDER = "anthropic"
# Error types of an `error` event inside a 200 stream that a new request may not meet.
_TRANSIENT_TYPES = frozenset({"overloaded_error", "api_error", "rate_limit_error"})


def translate(error: Exception) -> ProviderError:
    if isinstance(error, anthropic.APIStatusError) and error.status_code == 200:
        # An `error` event inside the stream: the status line had already said 200.
        transient = error.type in _TRANSIENT_TYPES
        return ProviderError(f"{PROVIDER} stream error: {error.type}", retryable=transient)
    return from_sdk(error, PROVIDER, anthropic)


class AnthropicChatModel(ResilientChatModel):
    provider = PROVIDER
    _client: AsyncAnthropic

    def count_tokens(self, text: str) -> int:
        # Anthropic's tokenizer is not published; see domain/tokens.py for the estimate.
        return estimate_tokens(text)

    async def _attempt(self, prompt: Prompt) -> AsyncIterator[str | Usage]:
        input_tokens = output_tokens = 0
        stopped = False
        try:
            stream = await self._client.messages.create(
                model=self._model,
                max_tokens=self._max_output_tokens,
                system=prompt.system_text(),
                messages=prompt.chat_messages(),  # type: ignore[arg-type]
                stream=True,
            )
            async with stream:  # closes the response also when our reader stops early
                async for event in stream:
                    if event.type == "message_start":
                        usage = event.message.usage
                        input_tokens = (
                            usage.input_tokens
                            + (usage.cache_creation_input_tokens or 0)
                            + (usage.cache_read_input_tokens or 0)
                        )
                        output_tokens = usage.output_tokens
                    elif event.type == "content_block_delta":
                        if event.delta.type == "text_delta" and event.delta.text:
                            yield event.delta.text
                    elif event.type == "message_delta":
                        output_tokens = event.usage.output_tokens  # cumulative
                    elif event.type == "message_stop":
                        stopped = True
        except Exception as error:
            raise translate(error) from error
        if not stopped:
            raise ProviderError(f"{PROVIDER} ended the stream mid-answer", retryable=True)
        yield Usage(input_tokens, output_tokens)
