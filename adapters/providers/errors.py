"""Provider failures in the core's terms, with what the retry policy needs to know."""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType

import httpx2

from domain.errors import ModelUnavailableError


class ProviderError(ModelUnavailableError):
    """A provider call failed; `retryable` says whether the same request may yet succeed."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        counts_against_provider: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        # A refused request (bad key, bad model name) says nothing about the provider's
        # health; only failures the provider could have avoided open its circuit.
        self.counts_against_provider = (
            retryable if counts_against_provider is None else counts_against_provider
        )


class AnswerInterruptedError(ModelUnavailableError):
    """The provider failed after the visitor had seen part of the answer."""

    code = "answer_interrupted"


# 408 and 409 are the SDKs' own retry set besides 429 and 5xx; 529 is Anthropic's overload.
_RETRYABLE_STATUS = frozenset({408, 409, 429})


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the provider asked us to wait, from `retry-after-ms` or `retry-after`."""
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / scale
        except ValueError:
            continue  # an HTTP date: rare from these APIs, and backoff covers it
        if seconds >= 0:
            return seconds
    return None


def status_error(provider: str, status: int, headers: Mapping[str, str]) -> ProviderError:
    retryable = status in _RETRYABLE_STATUS or status >= 500
    return ProviderError(
        f"{provider} answered HTTP {status}",
        retryable=retryable,
        retry_after=retry_after(headers) if retryable else None,
    )


def from_sdk(error: Exception, provider: str, sdk: ModuleType) -> ProviderError:
    """An SDK's failure in our terms (both SDKs name their errors alike); what an unknown
    one means is not worth a retry."""
    if isinstance(error, sdk.APIStatusError):
        return status_error(provider, error.status_code, error.response.headers)
    # A stream's body is read after the SDK's own wrapping: its transport errors come raw.
    if isinstance(error, sdk.APITimeoutError | httpx2.TimeoutException):
        return ProviderError(f"{provider} timed out", retryable=True)
    if isinstance(error, sdk.APIConnectionError | httpx2.TransportError):
        return ProviderError(f"{provider} connection failed", retryable=True)
    if isinstance(error, sdk.APIError):
        return ProviderError(f"{provider} reported an error: {error.message}", retryable=True)
    if isinstance(error, ValueError):  # a chunk or event that is not JSON
        return ProviderError(f"{provider} sent a malformed response", retryable=True)
    return ProviderError(f"{provider} failed: {type(error).__name__}", retryable=False)
