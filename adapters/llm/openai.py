"""OpenAI chat completions, streamed, for OpenAI and any server that speaks its API
(Ollama, vLLM, llama.cpp server, LM Studio) through a base URL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import openai
from openai import AsyncOpenAI
from openai._constants import RAW_RESPONSE_HEADER

from adapters.llm.openai_stream import StreamFailedError, chunks
from adapters.llm.resilient import ResilientChatModel
from adapters.providers.errors import ProviderError, from_sdk
from domain.models import Usage
from domain.prompts import Prompt, prompt_tokens
from domain.tokens import estimate_tokens

PROVIDER = "openai"
# What `.with_streaming_response` sets: the SDK sends the request, checks the status (an
# error status still becomes its APIStatusError) and hands back the unread response.
_UNREAD_BODY = {RAW_RESPONSE_HEADER: "stream"}


async def send_chat(
    client: AsyncOpenAI, model: str, messages: list[dict[str, str]], max_tokens: int
) -> httpx2.Response:
    """One streamed chat completion, usage included, as the service sends it: the response
    with its body unread, for adapters/llm/openai_stream.py.

    The SDK's own post, not chat.completions.create(): create() first walks the request
    through its TypedDict transform, 0.45 ms a question here (bench/sdk_request.py), for a
    body that is plain JSON already."""
    return await client.post(
        "/chat/completions",
        body={
            "model": model,
            "messages": messages,
            "max_tokens": max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
        },
        options={"security": {"bearer_auth": True}, "headers": _UNREAD_BODY},
        cast_to=httpx2.Response,
    )


class OpenAIChatModel(ResilientChatModel):
    provider = PROVIDER
    _client: AsyncOpenAI

    async def _attempt(self, prompt: Prompt) -> AsyncIterator[str | Usage]:
        parts: list[str] = []
        usage: Usage | None = None
        finished = False
        try:
            response = await send_chat(
                self._client,
                self._model,
                [{"role": "system", "content": prompt.system_text()}, *prompt.chat_messages()],
                self._max_output_tokens,
            )
            try:
                async for chunk in chunks(response.aiter_bytes()):
                    if chunk.usage is not None:
                        usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                    for choice in chunk.choices:
                        finished = finished or choice.finish_reason is not None
                        if choice.delta is not None and choice.delta.content:
                            parts.append(choice.delta.content)
                            yield choice.delta.content
            finally:  # also when our reader stops early
                await response.aclose()
        except StreamFailedError as error:
            raise ProviderError(f"{PROVIDER} reported an error: {error}", retryable=True) from error
        except Exception as error:
            raise from_sdk(error, PROVIDER, openai) from error
        if not finished:
            raise ProviderError(f"{PROVIDER} ended the stream mid-answer", retryable=True)
        # Servers that ignore include_usage (some local ones) are estimated, as cut-short
        # answers are (domain/tokens.py).
        yield usage or Usage(
            prompt_tokens(prompt, estimate_tokens), estimate_tokens("".join(parts))
        )
