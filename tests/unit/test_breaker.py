from __future__ import annotations

import pytest

from adapters.llm.breaker import CircuitBreaker
from adapters.llm.errors import ProviderError


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def failing(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        breaker.before_call()
        breaker.failed()


def test_opens_after_failures_in_a_row_and_skips_calls() -> None:
    breaker = CircuitBreaker("openai", failures=3, reset_seconds=10, clock=Clock())
    failing(breaker, 2)
    breaker.before_call()
    breaker.succeeded()  # a success resets the count
    failing(breaker, 3)

    assert breaker.state == "open"
    with pytest.raises(ProviderError) as raised:
        breaker.before_call()
    assert not raised.value.retryable
    assert not raised.value.counts_against_provider


def test_after_the_reset_time_one_probe_goes_through() -> None:
    clock = Clock()
    breaker = CircuitBreaker("anthropic", failures=1, reset_seconds=10, clock=clock)
    failing(breaker, 1)
    clock.now = 10.0

    breaker.before_call()  # the probe
    with pytest.raises(ProviderError):
        breaker.before_call()  # no second one while it runs
    breaker.succeeded()

    assert breaker.state == "closed"
    breaker.before_call()


def test_a_failed_probe_opens_the_circuit_again() -> None:
    clock = Clock()
    breaker = CircuitBreaker("anthropic", failures=2, reset_seconds=10, clock=clock)
    failing(breaker, 2)
    clock.now = 10.0
    failing(breaker, 1)

    assert breaker.state == "open"
    clock.now = 19.0
    assert breaker.state == "open"
    clock.now = 20.0
    assert breaker.state == "half_open"


def test_a_probe_the_visitor_abandoned_lets_the_next_one_through() -> None:
    clock = Clock()
    breaker = CircuitBreaker("openai", failures=1, reset_seconds=1, clock=clock)
    failing(breaker, 1)
    clock.now = 1.0
    breaker.before_call()
    breaker.released()
    breaker.before_call()
