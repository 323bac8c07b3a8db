"""Redis for tests: TEST_REDIS_URL, else testcontainers when a Docker engine answers."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

__all__ = ["redis_url"]

REDIS_IMAGE = os.environ.get("TEST_REDIS_IMAGE", "redis:7")


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        yield url
        return
    from docker.errors import DockerException
    from testcontainers.redis import RedisContainer

    try:
        container = RedisContainer(REDIS_IMAGE)
    except DockerException:
        pytest.skip("no Redis: TEST_REDIS_URL is unset and no Docker engine answers")
    with container:
        host = container.get_container_host_ip()
        yield f"redis://{host}:{container.get_exposed_port(6379)}/0"
