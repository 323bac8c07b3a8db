"""The LLM providers' stand-ins as fixtures: a stub server per test module, and a model
catalog on it whose retry policy a module may set by overriding `stub_resilience`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from adapters.llm.catalog import ModelCatalog
from adapters.providers.retries import Resilience
from testkit.llm_stubs import StubServer, running_stub, stub_models

__all__ = ["FAST", "catalog", "stub", "stub_resilience"]

# Retries without waiting: no test sits through a real backoff.
FAST = Resilience(attempts=2, backoff_seconds=0.01)


@pytest.fixture(scope="module")
def stub() -> Iterator[StubServer]:
    """OpenAI and Anthropic on 127.0.0.1: one server for the module, scripted per test."""
    with running_stub() as server:
        yield server


@pytest.fixture
def stub_resilience() -> Resilience:
    return FAST


@pytest.fixture
async def catalog(stub: StubServer, stub_resilience: Resilience) -> AsyncIterator[ModelCatalog]:
    """The provider models on a fresh stub (no script, no record), closed afterwards."""
    async with stub_models(stub, stub_resilience) as models:
        yield models
