"""Provider faults, through the real openai and anthropic SDKs, against local stand-ins.

Each test scripts the stub's replies (429 with Retry-After, 500, 529, a slow first token,
a stream cut mid-way, a chunk that is not JSON, an `error` event, a visitor who hangs up)
and checks what the adapter did about it: how often it asked, how long it waited, what
it raised, and what the stub saw of the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
from prometheus_client import REGISTRY

from adapters.llm.catalog import ModelCatalog
from adapters.providers.errors import AnswerInterruptedError, ProviderError
from adapters.providers.retries import Resilience
from application.ports.models import ChatModel
from domain.models import Usage
from domain.prompts import Prompt, PromptSource
from testkit.llm_stubs import Reply, StubServer, stub_catalog

SPECS = {"openai": "openai:gpt-4o-mini", "anthropic": "anthropic:claude-sonnet-5-5"}
PROMPT = Prompt(
    system="You help shoppers.",
    no_answer="Sorry.",
    question="How long is the kettle's warranty?",
    sources=(PromptSource(index=1, title="Warranty", text="Every kettle: two years."),),
)
FAST = Resilience(
    attempts=3,
    backoff_seconds=0.01,
    max_backoff_seconds=0.05,
    retry_budget_seconds=5.0,
    first_token_seconds=0.5,
    total_seconds=5.0,
)
# Bounds every wait of a test; nothing here should come near it.
TEST_TIMEOUT_S = 10.0


def _counted(what: str, provider: str) -> float:
    """The provider's retries or errors so far, as /metrics reports them."""
    total = 0.0
    for family in REGISTRY.collect():
        for sample in family.samples:
            named = sample.name == f"chatconnect_provider_{what}_total"
            if named and sample.labels.get("provider") == provider:
                total += sample.value
    return total


def _breaker_open(provider: str) -> float | None:
    return REGISTRY.get_sample_value("chatconnect_provider_breaker_open", {"provider": provider})


@pytest.fixture
def stub_resilience() -> Resilience:
    return FAST


def catalog_for(stub: StubServer, resilience: Resilience = FAST, **config: object) -> ModelCatalog:
    return stub_catalog(stub, resilience, **config)  # type: ignore[no-any-return]


@pytest.fixture(params=sorted(SPECS))
def model(request: pytest.FixtureRequest, catalog: ModelCatalog) -> ChatModel:
    return catalog.model(SPECS[request.param])


async def collect(model: ChatModel) -> list[str | Usage]:
    async with asyncio.timeout(TEST_TIMEOUT_S):
        return [item async for item in model.stream(PROMPT)]


async def test_a_429_is_retried_after_the_providers_retry_after(
    model: ChatModel, stub: StubServer
) -> None:
    stub.script(Reply(status=429, error_type="rate_limit_error", headers={"retry-after": "0.4"}))

    started = time.perf_counter()
    items = await collect(model)

    assert time.perf_counter() - started >= 0.4  # backoff alone would be ~0.01 s
    assert items[-1] == Usage(42, 7)
    assert stub.outcomes() == ["error", "completed"]


async def test_a_retry_after_longer_than_the_budget_fails_over_at_once(
    stub: StubServer,
) -> None:
    stub.reset()
    catalog = catalog_for(stub, Resilience(attempts=3, retry_budget_seconds=1.0))
    stub.script(Reply(status=429, headers={"retry-after": "30"}))

    started = time.perf_counter()
    with pytest.raises(ProviderError) as raised:
        await collect(catalog.model(SPECS["openai"]))

    assert time.perf_counter() - started < 1.0
    assert "429" in raised.value.message
    assert len(stub.requests) == 1
    await catalog.close()


async def test_a_500_is_retried(model: ChatModel, stub: StubServer) -> None:
    stub.script(Reply(status=500), Reply(status=503))
    provider = model.name.split(":")[0]
    retries, errors = _counted("retries", provider), _counted("errors", provider)

    items = await collect(model)

    assert "".join(i for i in items if isinstance(i, str)).startswith("The kettle")
    assert stub.outcomes() == ["error", "error", "completed"]
    assert _counted("retries", provider) - retries == 2
    assert _counted("errors", provider) - errors == 2


async def test_anthropic_overload_529_is_retried(catalog: ModelCatalog, stub: StubServer) -> None:
    stub.script(Reply(status=529, error_type="overloaded_error"))

    items = await collect(catalog.model(SPECS["anthropic"]))

    assert items[-1] == Usage(42, 7)
    assert len(stub.requests) == 2


async def test_retries_are_bounded_in_attempts(model: ChatModel, stub: StubServer) -> None:
    stub.reset(default=Reply(status=500))

    with pytest.raises(ProviderError) as raised:
        await collect(model)

    assert raised.value.retryable
    assert len(stub.requests) == FAST.attempts


@pytest.mark.parametrize("status", [400, 401, 404])
async def test_a_refused_request_is_not_retried(
    model: ChatModel, stub: StubServer, status: int
) -> None:
    stub.script(Reply(status=status, error_type="invalid_request_error"))

    with pytest.raises(ProviderError) as raised:
        await collect(model)

    assert not raised.value.retryable
    assert len(stub.requests) == 1


async def test_a_slow_first_token_is_abandoned_and_retried(
    model: ChatModel, stub: StubServer
) -> None:
    stub.script(Reply(first_token_delay=3.0))

    started = time.perf_counter()
    items = await collect(model)

    assert time.perf_counter() - started < 2.0  # the first-token timeout is 0.5 s
    assert items[-1] == Usage(42, 7)
    slow, quick = stub.requests
    assert slow.wait_ended() == "client_closed"  # the abandoned request was closed
    assert quick.wait_ended() == "completed"


@pytest.mark.parametrize("failure", ["cut", "malformed", "error_event"])
async def test_a_stream_broken_before_its_first_token_is_retried(
    model: ChatModel, stub: StubServer, failure: str
) -> None:
    if failure == "error_event" and model.name.startswith("openai"):
        pytest.skip("error events are Anthropic's wire format")
    stub.script(Reply(fail_after=0, failure=failure, error_type="overloaded_error"))

    items = await collect(model)

    assert items[-1] == Usage(42, 7)
    assert len(stub.requests) == 2


@pytest.mark.parametrize("failure", ["cut", "malformed", "error_event"])
async def test_a_stream_broken_after_its_first_token_is_interrupted_not_retried(
    model: ChatModel, stub: StubServer, failure: str
) -> None:
    if failure == "error_event" and model.name.startswith("openai"):
        pytest.skip("error events are Anthropic's wire format")
    stub.script(Reply(deltas=("one ", "two ", "three"), fail_after=2, failure=failure))
    seen: list[str | Usage] = []

    with pytest.raises(AnswerInterruptedError):
        async with asyncio.timeout(TEST_TIMEOUT_S):
            async for item in model.stream(PROMPT):
                seen.append(item)

    assert seen == ["one ", "two "]
    assert len(stub.requests) == 1


async def test_a_stream_that_stalls_after_its_first_token_is_interrupted(
    model: ChatModel, stub: StubServer
) -> None:
    # The wait for each next token is bounded as the first one's (0.5 s here, the client's
    # read timeout): a provider that goes quiet mid-answer does not hold the visitor.
    stub.script(Reply(deltas=("one ", "two "), delay=3.0))
    seen: list[str | Usage] = []

    started = time.perf_counter()
    with pytest.raises(AnswerInterruptedError, match="timed out"):
        async with asyncio.timeout(TEST_TIMEOUT_S):
            async for item in model.stream(PROMPT):
                seen.append(item)

    assert time.perf_counter() - started < 2.0
    assert seen == ["one "]
    [stalled] = stub.requests
    assert await asyncio.to_thread(stalled.wait_ended) == "client_closed"


async def test_an_answer_past_the_total_timeout_is_interrupted(stub: StubServer) -> None:
    stub.reset()
    catalog = catalog_for(stub, Resilience(first_token_seconds=1.0, total_seconds=0.6))
    stub.script(Reply(deltas=("a ",) * 20, delay=0.1))
    model = catalog.model(SPECS["openai"])  # built first: the SDK's import is not timed

    started = time.perf_counter()
    with pytest.raises(AnswerInterruptedError):
        await collect(model)

    assert time.perf_counter() - started < 1.5
    # Waited for in a thread, as the tests below do: a socket's close completes on the
    # event loop's next turn, which a blocking wait here would never let come.
    assert await asyncio.to_thread(stub.requests[0].wait_ended) == "client_closed"
    await catalog.close()


async def test_the_circuit_opens_after_repeated_failures_and_probes_later(
    stub: StubServer,
) -> None:
    stub.reset(default=Reply(status=500))
    catalog = catalog_for(
        stub, Resilience(attempts=1), breaker_failures=2, breaker_reset_seconds=0.3
    )
    model = catalog.model(SPECS["anthropic"])
    for _ in range(2):
        with pytest.raises(ProviderError):
            await collect(model)

    with pytest.raises(ProviderError) as skipped:
        await collect(model)
    assert "skipped" in skipped.value.message
    assert len(stub.requests) == 2  # the open circuit sent nothing
    assert _breaker_open("anthropic") == 1

    await asyncio.sleep(0.35)
    stub.reset()  # the provider has recovered
    assert (await collect(model))[-1] == Usage(42, 7)
    assert len(stub.requests) == 1
    assert (await collect(model))[-1] == Usage(42, 7)  # closed again
    assert _breaker_open("anthropic") == 0
    await catalog.close()


async def test_a_refused_request_does_not_open_the_circuit(stub: StubServer) -> None:
    stub.reset(default=Reply(status=400))
    catalog = catalog_for(stub, Resilience(attempts=1), breaker_failures=1)
    model = catalog.model(SPECS["openai"])
    for _ in range(3):
        with pytest.raises(ProviderError):
            await collect(model)

    assert len(stub.requests) == 3  # every request reached the provider
    await catalog.close()


async def test_a_consumer_who_goes_away_closes_the_providers_connection(
    model: ChatModel, stub: StubServer
) -> None:
    stub.script(Reply(deltas=("word ",) * 50, delay=0.05))
    first = asyncio.Event()

    async def consume() -> None:
        async for item in model.stream(PROMPT):
            if isinstance(item, str):
                first.set()

    task = asyncio.create_task(consume())
    async with asyncio.timeout(TEST_TIMEOUT_S):
        await first.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    [seen] = stub.requests
    assert await asyncio.to_thread(seen.wait_ended) == "client_closed"


async def test_a_consumer_who_stops_reading_closes_the_providers_connection(
    model: ChatModel, stub: StubServer
) -> None:
    stub.script(Reply(deltas=("word ",) * 50, delay=0.05))

    async with asyncio.timeout(TEST_TIMEOUT_S):
        async with contextlib.aclosing(model.stream(PROMPT)) as items:
            async for _ in items:
                break

    [seen] = stub.requests
    assert await asyncio.to_thread(seen.wait_ended) == "client_closed"


async def test_requests_in_a_row_reuse_the_connection_without_a_retry(
    stub: StubServer,
) -> None:
    stub.reset()
    catalog = catalog_for(stub, Resilience(attempts=1))
    for spec in SPECS.values():
        for _ in range(3):
            assert (await collect(catalog.model(spec)))[-1] == Usage(42, 7)

    assert stub.outcomes() == ["completed"] * 6
    await catalog.close()


async def test_a_probe_that_is_refused_leaves_the_circuit_able_to_probe_again(
    stub: StubServer,
) -> None:
    stub.reset(default=Reply(status=500))
    catalog = catalog_for(
        stub, Resilience(attempts=1), breaker_failures=1, breaker_reset_seconds=0.2
    )
    model = catalog.model(SPECS["openai"])
    with pytest.raises(ProviderError):
        await collect(model)  # opens the circuit
    await asyncio.sleep(0.25)
    stub.reset(default=Reply(status=400))
    with pytest.raises(ProviderError) as refused:
        await collect(model)  # the probe: refused, which says nothing of the provider
    assert "400" in refused.value.message

    stub.reset()
    assert (await collect(model))[-1] == Usage(42, 7)
    await catalog.close()
