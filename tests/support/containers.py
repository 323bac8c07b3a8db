"""Services for tests: which mode the session runs in, and PostgreSQL, Redis and Qdrant
started as containers through testcontainers.

TEST_SERVICES picks the mode (the README's "Tests" section):

- `auto` (default): each service from its TEST_*_URL when set, else from a container when
  a Docker engine answers and its image can be had, else its embedded form (pgserver for
  PostgreSQL) or, where there is none, the tests that need it skip.
- `containers`: every service from a container; an engine that does not answer, or a
  PostgreSQL or Redis image that cannot be had, is an error. Qdrant skips when its image
  cannot be had.
- `env`: services from TEST_DATABASE_URL, TEST_REDIS_URL, TEST_QDRANT_URL only
  (PostgreSQL falls back to pgserver when its URL is unset); no containers.
- `embedded`: pgserver only; Redis and Qdrant server tests skip.

Images come from TEST_POSTGRES_IMAGE, TEST_REDIS_IMAGE, TEST_QDRANT_IMAGE and default to
the official ones; where no registry can be reached, `scripts/test-images` builds local
PostgreSQL and Redis images and prints the variables that name them.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from testcontainers.core.container import DockerContainer

__all__ = ["pytest_report_header"]

MODES = ("auto", "containers", "env", "embedded")
POSTGRES_IMAGE = os.environ.get("TEST_POSTGRES_IMAGE") or "postgres:16"
REDIS_IMAGE = os.environ.get("TEST_REDIS_IMAGE") or "redis:7"
QDRANT_IMAGE = os.environ.get("TEST_QDRANT_IMAGE") or "qdrant/qdrant"
PULL_SECONDS = float(os.environ.get("TEST_IMAGE_PULL_SECONDS", "300"))

# As measured with an engine on this kind of machine: the Ryuk reaper is one more image to
# pull (every container is stopped at teardown anyway), and the host testcontainers
# detects may not be reachable; published ports are, on loopback. Inside a container
# (as CI is here) testcontainers would otherwise go through the bridge's gateway. It
# reads these at import, so they are set before it is imported, and only when unset.
os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
os.environ.setdefault("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
os.environ.setdefault("TESTCONTAINERS_CONNECTION_MODE", "docker_host")


class Unavailable(Exception):
    """A container cannot be had here; the message says why, for skips and fallbacks."""


def services_mode() -> str:
    mode = os.environ.get("TEST_SERVICES", "auto").strip().lower() or "auto"
    if mode not in MODES:
        raise pytest.UsageError(f"TEST_SERVICES must be one of {', '.join(MODES)}, got {mode!r}")
    return mode


def may_use_containers() -> bool:
    return services_mode() in ("auto", "containers")


@cache
def _engine() -> tuple[Any, str]:
    """(docker client, description), or (None, why not). Asked once per session."""
    from docker import from_env
    from docker.errors import DockerException

    where = os.environ.get("DOCKER_HOST") or "the default socket"
    try:
        client = from_env(timeout=10)
        version = client.version().get("Version", "?")
    except DockerException as error:
        return None, f"no Docker engine answers at {where} ({_first_line(error)})"
    return client, f"Docker {version} at {where}"


def engine_description() -> str:
    return _engine()[1]


def docker_client() -> Any:
    """The engine's client; raises Unavailable saying why when there is none."""
    client, description = _engine()
    if client is None:
        raise Unavailable(description)
    return client


@cache
def _image_problem(image: str) -> str | None:
    from docker.errors import DockerException

    client = docker_client()
    try:
        client.images.get(image)
        return None
    except DockerException:
        pass
    repository, _, tag = image.rpartition(":") if ":" in image.split("/")[-1] else (image, "", "")
    started = time.monotonic()
    try:
        client.images.pull(repository, tag=tag or "latest")
    except DockerException as error:
        return f"image {image} is not here and cannot be pulled ({_first_line(error)})"
    if time.monotonic() - started > PULL_SECONDS:
        return f"image {image} took over {PULL_SECONDS:.0f}s to pull"
    return None


def require_image(image: str) -> None:
    """Returns when the engine answers and has (or has just pulled) the image."""
    problem = _image_problem(image)
    if problem is not None:
        raise Unavailable(problem)


def container_problem(image: str) -> str | None:
    """Why no container of this image can be started here, or None when one can."""
    if not may_use_containers():
        return f"TEST_SERVICES={services_mode()}"
    try:
        require_image(image)
    except Unavailable as error:
        return str(error)
    return None


def _first_line(error: BaseException) -> str:
    """The useful part of a docker error: the engine's explanation, or the root cause."""
    explanation = getattr(error, "explanation", None)
    if explanation:
        return str(explanation).splitlines()[0][:300]
    root: BaseException = error
    while root.__cause__ or root.__context__:
        root = root.__cause__ or root.__context__  # type: ignore[assignment]
    text = getattr(root, "strerror", None) or str(root).strip() or type(root).__name__
    return str(text).splitlines()[0][:300]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Running:
    """A started container: its URL for clients, and ways to fail it and bring it back."""

    name: str
    image: str
    url: str
    container: DockerContainer
    seconds: float

    @property
    def _wrapped(self) -> Any:
        return self.container.get_wrapped_container()

    def describe(self) -> str:
        where = self.url.rsplit("@", 1)[-1]  # no password in the log
        up = f"up in {self.seconds:.1f}s"
        return f"container {self.image} ({self._wrapped.short_id}, {where}), {up}"

    def pause(self) -> None:
        self._wrapped.pause()

    def unpause(self) -> None:
        self._wrapped.unpause()

    def stop(self) -> None:
        self._wrapped.stop(timeout=10)

    def start(self) -> None:
        """After stop(): the same container, data and (fixed) port."""
        self._wrapped.start()

    @contextmanager
    def paused(self) -> Iterator[None]:
        self.pause()
        try:
            yield
        finally:
            self.unpause()

    @contextmanager
    def stopped(self) -> Iterator[None]:
        self.stop()
        try:
            yield
        finally:
            self.start()


def _bind(container: DockerContainer, port: int, fixed_port: bool) -> None:
    # A fixed host port survives stop/start (an ephemeral one may change), so the app's
    # URL stays right across a restart.
    if fixed_port:
        container.with_bind_ports(port, free_port())


@contextmanager
def _running(name: str, image: str, container: DockerContainer, url: Any) -> Iterator[Running]:
    started = time.monotonic()
    container.start()
    try:
        yield Running(name, image, url(), container, time.monotonic() - started)
    finally:
        container.stop()


@contextmanager
def postgres_container(*, fixed_port: bool = False) -> Iterator[Running]:
    """A PostgreSQL server; its URL (user `test`) may CREATE DATABASE."""
    require_image(POSTGRES_IMAGE)
    from testcontainers.community.postgres import PostgresContainer

    container = PostgresContainer(
        POSTGRES_IMAGE, username="test", password="test", dbname="test", driver=None
    )
    _bind(container, 5432, fixed_port)
    with _running("PostgreSQL", POSTGRES_IMAGE, container, container.get_connection_url) as up:
        yield up


@contextmanager
def redis_container(*, fixed_port: bool = False) -> Iterator[Running]:
    require_image(REDIS_IMAGE)
    from testcontainers.community.redis import RedisContainer

    container = RedisContainer(REDIS_IMAGE)
    _bind(container, 6379, fixed_port)

    def url() -> str:
        return f"redis://{container.get_container_host_ip()}:{container.get_exposed_port(6379)}/0"

    with _running("Redis", REDIS_IMAGE, container, url) as up:
        yield up


@contextmanager
def qdrant_container(*, fixed_port: bool = False) -> Iterator[Running]:
    require_image(QDRANT_IMAGE)
    from testcontainers.community.qdrant import QdrantContainer

    container = QdrantContainer(QDRANT_IMAGE)
    _bind(container, 6333, fixed_port)

    def url() -> str:
        return f"http://{container.get_container_host_ip()}:{container.get_exposed_port(6333)}"

    with _running("Qdrant", QDRANT_IMAGE, container, url) as up:
        yield up


def announce(config: pytest.Config, line: str) -> None:
    """A line in the test log, outside pytest's capture (which services, how found)."""
    capture = config.pluginmanager.get_plugin("capturemanager")
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if capture is not None and reporter is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\n{line}")


def pytest_report_header(config: pytest.Config) -> str:
    mode = services_mode()
    if mode == "env":
        return "services for tests: TEST_SERVICES=env (environment URLs, no containers)"
    if mode == "embedded":
        return "services for tests: TEST_SERVICES=embedded (pgserver; no Redis, no Qdrant server)"
    return (
        f"services for tests: TEST_SERVICES={mode}; {engine_description()}; "
        f"images {POSTGRES_IMAGE}, {REDIS_IMAGE}, {QDRANT_IMAGE}"
    )
