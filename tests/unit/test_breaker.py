from __future__ import annotations

import pytest

from adapters.providers.breaker import CircuitBreaker
from adapters.providers.errors import ProviderError
from testkit.fakes.telemetry import RecordingTelemetry


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def breaker_of(name: str, failures: int, reset: float, clock: Clock) -> CircuitBreaker:
    return CircuitBreaker(
        name, telemetry=RecordingTelemetry(), failures=failures, reset_seconds=reset, clock=clock
    )


def changes(breaker: CircuitBreaker) -> list[tuple[str, str, str | None]]:
    return breaker._telemetry.breakers  # type: ignore[attr-defined,no-any-return]


def failing(breaker: CircuitBreaker, times: int) -> None:
    for n in range(times):
        breaker.before_call()
        breaker.failed(f"HTTP 500 #{n + 1}")


def test_opens_after_failures_in_a_row_and_skips_calls() -> None:
    breaker = breaker_of("openai", 3, 10, Clock())
    failing(breaker, 2)
    breaker.before_call()
    breaker.succeeded()  # a success resets the count
    failing(breaker, 3)

    assert breaker.state == "open"
    with pytest.raises(ProviderError) as raised:
        breaker.before_call()
    assert not raised.value.retryable
    assert not raised.value.counts_against_provider
    assert changes(breaker) == [("openai", "open", "HTTP 500 #3")]  # with its cause


def test_after_the_reset_time_one_probe_goes_through() -> None:
    clock = Clock()
    breaker = breaker_of("anthropic", 1, 10, clock)
    failing(breaker, 1)
    clock.now = 10.0

    breaker.before_call()  # the probe
    with pytest.raises(ProviderError):
        breaker.before_call()  # no second one while it runs
    breaker.succeeded()

    assert breaker.state == "closed"
    breaker.before_call()
    assert [state for _, state, _ in changes(breaker)] == ["open", "half_open", "closed"]


def test_a_failed_probe_opens_the_circuit_again() -> None:
    clock = Clock()
    breaker = breaker_of("anthropic", 2, 10, clock)
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
    breaker = breaker_of("openai", 1, 1, clock)
    failing(breaker, 1)
    clock.now = 1.0
    breaker.before_call()
    with pytest.raises(ProviderError):
        breaker.before_call()  # the probe is still out

    breaker.released()

    breaker.before_call()  # raises if the abandoned probe still held the circuit
    assert breaker.state == "half_open"
