"""Retries, timeouts and the circuit breaker around a provider's calls.

The SDKs' own retries are off: this is the only place a request is repeated, and for a
stream only before the first item, since after it the visitor has already seen part of
the answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

from adapters.providers.breaker import CircuitBreaker
from adapters.providers.errors import AnswerInterruptedError, ProviderError
from application.ports.telemetry import Telemetry
from domain.models import Usage

Item = str | Usage
Attempt = Callable[[], AsyncIterator[Item]]


@dataclass(frozen=True, kw_only=True)
class Resilience:
    attempts: int = 3
    # Full jitter: the n-th retry waits a random time up to backoff * 2**(n-1), capped.
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 8.0
    # All attempts at one model, waits included; a longer Retry-After means fail over.
    retry_budget_seconds: float = 15.0
    first_token_seconds: float = 20.0
    total_seconds: float = 120.0


def _retryable(error: BaseException) -> bool:
    return isinstance(error, ProviderError) and error.retryable


class _Wait:
    """Jittered exponential backoff, or the provider's Retry-After when it gave one."""

    def __init__(self, policy: Resilience) -> None:
        self._jitter = wait_random_exponential(
            multiplier=policy.backoff_seconds, max=policy.max_backoff_seconds
        )

    def __call__(self, state: RetryCallState) -> float:
        jitter = float(self._jitter(state))
        error = state.outcome.exception() if state.outcome else None
        hinted = getattr(error, "retry_after", None)
        return max(float(hinted), jitter) if hinted is not None else jitter


def retrying_for(policy: Resilience, provider: str, telemetry: Telemetry) -> AsyncRetrying:
    """Attempts at one request: retryable errors only, bounded in count and in time."""

    def retried(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        telemetry.provider_retried(
            provider, state.attempt_number, str(error), round(state.upcoming_sleep, 3)
        )

    return AsyncRetrying(
        stop=stop_after_attempt(policy.attempts) | stop_before_delay(policy.retry_budget_seconds),
        wait=_Wait(policy),
        retry=retry_if_exception(_retryable),
        before_sleep=retried,
        reraise=True,
    )


async def _next(items: AsyncIterator[Item], deadline: float, waiting_for: str) -> Item:
    try:
        async with asyncio.timeout_at(deadline):
            return await anext(items)
    except TimeoutError:
        raise ProviderError(f"no {waiting_for} in time", retryable=True) from None


class _AnswerDeadline:
    """The whole answer's deadline with one timer, not one per token (asyncio.timeout per
    item cost ~4% of the CPU of 1,000 streams). When it passes, it cancels the task only
    while that task waits for the provider's next item; otherwise the next wait fails at
    once."""

    def __init__(self, when: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._waiting: asyncio.Task[object] | None = None
        self._expired = self._cancelled = False
        self._timer = self._loop.call_at(when, self._expire)

    def _expire(self) -> None:
        self._expired = True
        if self._waiting is not None:
            self._cancelled = True
            self._waiting.cancel()

    async def next(self, items: AsyncIterator[Item]) -> Item:
        if self._expired:
            raise ProviderError("no end of the answer in time", retryable=True)
        task = self._waiting = asyncio.current_task()
        try:
            return await anext(items)
        except asyncio.CancelledError:
            # Ours, and no one else's cancellation pending (a visitor hanging up wins).
            if self._cancelled and task is not None and task.uncancel() == 0:
                raise ProviderError("no end of the answer in time", retryable=True) from None
            raise
        finally:
            self._waiting = None

    def close(self) -> None:
        self._timer.cancel()


def _settle(breaker: CircuitBreaker, error: BaseException, telemetry: Telemetry) -> None:
    """Tells the breaker how a call failed: a provider fault, or no verdict at all."""
    if isinstance(error, ProviderError) and not error.counts_against_provider:
        breaker.released()
    elif isinstance(error, Exception):
        retryable = isinstance(error, ProviderError) and error.retryable
        telemetry.provider_failed(breaker.name, retryable)
        breaker.failed(str(error) or type(error).__name__)
    else:
        breaker.released()  # cancelled: the visitor left


async def _start(
    attempt: Attempt,
    policy: Resilience,
    breaker: CircuitBreaker,
    telemetry: Telemetry,
    deadline: float,
) -> tuple[AsyncIterator[Item], Item]:
    """A stream and its first item, retrying what can be retried before it arrives."""
    loop = asyncio.get_running_loop()
    retrying = retrying_for(policy, breaker.name, telemetry)
    async for trial in retrying:
        with trial:
            breaker.before_call()
            items = attempt()
            first_deadline = min(deadline, loop.time() + policy.first_token_seconds)
            try:
                first = await _next(items, first_deadline, "first token")
            except BaseException as error:
                await items.aclose()
                if isinstance(error, StopAsyncIteration):
                    error = ProviderError("the stream ended before any answer", retryable=True)
                _settle(breaker, error, telemetry)
                raise error from None
            breaker.succeeded()
            return items, first
    raise AssertionError("unreachable: tenacity re-raises the last error")


async def guarded_stream(
    attempt: Attempt, policy: Resilience, breaker: CircuitBreaker, telemetry: Telemetry
) -> AsyncIterator[Item]:
    """The attempt's items, under the retry policy, the breaker and the deadlines."""
    deadline = asyncio.get_running_loop().time() + policy.total_seconds
    items, item = await _start(attempt, policy, breaker, telemetry, deadline)
    answer = _AnswerDeadline(deadline)
    try:
        while True:
            yield item
            item = await answer.next(items)
    except StopAsyncIteration:
        return
    except ProviderError as error:
        _settle(breaker, error, telemetry)
        raise AnswerInterruptedError(
            f"{breaker.name} stopped before the answer was complete: {error.message}"
        ) from error
    finally:
        answer.close()
        await items.aclose()
