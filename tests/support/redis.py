"""Redis and a Qdrant server for tests, as TEST_SERVICES says (tests/support/containers.py):
by default the TEST_REDIS_URL / TEST_QDRANT_URL in the environment, else a container
when a Docker engine answers and the image can be had, else the tests that need one skip,
saying why. There is no embedded Redis; the qdrant-client adapter also runs in the
contract suite on qdrant-client's local mode."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.containers import (
    QDRANT_IMAGE,
    REDIS_IMAGE,
    announce,
    container_problem,
    qdrant_container,
    redis_container,
    services_mode,
)

__all__ = ["qdrant_url", "redis_url"]


@pytest.fixture(scope="session")
def redis_url(request: pytest.FixtureRequest) -> Iterator[str]:
    mode = services_mode()
    url = os.environ.get("TEST_REDIS_URL")
    if url and mode in ("auto", "env"):
        announce(request.config, "Redis for tests: TEST_REDIS_URL")
        yield url
        return
    why_not = container_problem(REDIS_IMAGE)
    if why_not is None:
        with redis_container() as running:
            announce(request.config, f"Redis for tests: {running.describe()}")
            yield running.url
        return
    if mode == "containers":
        raise RuntimeError(f"TEST_SERVICES=containers, but {why_not}")
    pytest.skip(f"no Redis: TEST_REDIS_URL is unset and no container ({why_not})")


@pytest.fixture(scope="session")
def qdrant_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A Qdrant server; where none can be had (no image here), the test skips saying so,
    in every mode."""
    url = os.environ.get("TEST_QDRANT_URL")
    if url and services_mode() in ("auto", "env"):
        announce(request.config, "Qdrant for tests: TEST_QDRANT_URL")
        yield url
        return
    why_not = container_problem(QDRANT_IMAGE)
    if why_not is not None:
        pytest.skip(f"no Qdrant server: TEST_QDRANT_URL is unset and no container ({why_not})")
    with qdrant_container() as running:
        announce(request.config, f"Qdrant for tests: {running.describe()}")
        yield running.url
