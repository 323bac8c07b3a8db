"""Faults injected into real servers: PostgreSQL and Redis containers paused, stopped and
restarted under the running app.

The tests start containers of their own (on fixed host ports, so a restarted server comes
back where the app expects it), never the session's shared ones. They need a Docker
engine and the images (tests/support/containers.py); without them they skip, saying why,
and the proxy-based fault tests in test_operations.py and test_redis_service.py still
cover the app's side.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from litestar.testing import AsyncTestClient

from adapters.postgres.urls import asyncpg_dsn
from application.ports.models import Embedder
from application.ports.vectors import VectorStore
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from testkit.vectors import live_chunks
from tests.integration.test_operations import OWNER, widget_with_a_document
from tests.support.containers import (
    POSTGRES_IMAGE,
    REDIS_IMAGE,
    Running,
    announce,
    container_problem,
    postgres_container,
    redis_container,
)
from tests.support.sse import events_of

pytestmark = [pytest.mark.integration, pytest.mark.containers]

ASK = {"message": "How long can I return an item?"}


def _needs(image: str) -> None:
    problem = container_problem(image)
    if problem is not None:
        pytest.skip(f"no container to inject faults into: {problem}")


@pytest.fixture(scope="module")
def postgres(request: pytest.FixtureRequest) -> Iterator[Running]:
    """A PostgreSQL server of this module's own (each test's app has its own widgets);
    every test leaves it running."""
    _needs(POSTGRES_IMAGE)
    with postgres_container(fixed_port=True) as running:
        announce(request.config, f"PostgreSQL to fail: {running.describe()}")
        yield running


@pytest.fixture(scope="module")
def redis(request: pytest.FixtureRequest) -> Iterator[Running]:
    """A Redis server of this module's own; every test leaves it running."""
    _needs(REDIS_IMAGE)
    with redis_container(fixed_port=True) as running:
        announce(request.config, f"Redis to fail: {running.describe()}")
        yield running


@asynccontextmanager
async def serving(tmp_path: Path, **settings: Any) -> AsyncIterator[AsyncTestClient]:
    app = create_app(
        Settings(data_dir=tmp_path, admin_token="ops-token", log_format="json", **settings)
    )
    async with AsyncTestClient(app, timeout=60) as client:
        yield client


# One app per server, for the module (an app takes seconds to start); each test makes
# widgets of its own, and leaves the server running.


@pytest.fixture(scope="module")
async def on_postgres(
    postgres: Running, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncTestClient]:
    """The app on the PostgreSQL container."""
    async with serving(tmp_path_factory.mktemp("app"), database_url=postgres.url) as client:
        yield client


@pytest.fixture(scope="module")
async def on_redis(
    redis: Running, postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncTestClient]:
    """The app on the Redis container (and the session's PostgreSQL)."""
    async with serving(
        tmp_path_factory.mktemp("app"),
        database_url=postgres_url,
        redis_url=redis.url,
        rate_limit_free_visitor_per_minute=3,
    ) as client:
        yield client


async def eventually(check: Any, seconds: float, what: str) -> Any:
    """Polls `check()` (a coroutine function returning a truthy value when done)."""
    deadline = time.monotonic() + seconds
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what} not within {seconds}s (last: {last!r})")


async def timed(request: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await request
    return response, time.monotonic() - started


async def answering(client: AsyncTestClient) -> dict[str, str]:
    """A widget with a document that answers while all is well: its visitors' header."""
    widget = await widget_with_a_document(client)
    key = {"X-Widget-Key": widget["public_key"]}
    assert (await client.post("/api/widget/chat", json=ASK, headers=key)).status_code == 200
    return key


# PostgreSQL paused: a server that hangs, with every connection still open.


async def test_postgres_paused_fails_readiness_and_chats_fast_then_recovers(
    postgres: Running, on_postgres: AsyncTestClient
) -> None:
    client = on_postgres
    key = await answering(client)

    with postgres.paused():
        ready, took = await timed(client.get("/health/ready"))
        assert took < 2, f"readiness took {took:.1f}s"
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"] == "down"
        assert ready.json()["checks"]["vector_store"] == "ok"
        assert (await client.get("/health")).status_code == 200

        refused, took = await timed(client.post("/api/widget/chat", json=ASK, headers=key))
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"]["code"] == "database_unavailable"
        assert took < 15, f"the chat hung for {took:.1f}s"
        # A streamed chat ends with the same error as an event, in bounded time.
        streamed, took = await timed(client.post("/api/widget/chat/stream", json=ASK, headers=key))
        assert took < 15, f"the streamed chat hung for {took:.1f}s"
        if streamed.status_code == 200:
            events = events_of(streamed)
            assert events[-1] == ("error", {"code": "database_unavailable", **_MESSAGE})
        else:
            assert streamed.status_code == 503, streamed.text

    # The same app, no restart: the pool replaces the connections that hung.
    async def ready_again() -> bool:
        return (await client.get("/health/ready")).status_code == 200

    await eventually(ready_again, 15, "readiness after unpause")
    again = await client.post("/api/widget/chat", json=ASK, headers=key)
    assert again.status_code == 200, again.text
    assert again.json()["sources"]


_MESSAGE = {"message": "the database is unavailable"}


async def test_postgres_paused_streamed_chat_sends_error_instead_of_done(
    postgres: Running, on_postgres: AsyncTestClient
) -> None:
    client = on_postgres
    key = await answering(client)

    with postgres.paused():
        streamed = await client.post("/api/widget/chat/stream", json=ASK, headers=key)
    if streamed.status_code == 503:
        # Refused before the stream opened: the question's usage is reserved in PostgreSQL
        # at admission, so with it down no answer starts that could not be kept or billed.
        assert streamed.json()["error"]["code"] == "database_unavailable", streamed.text
        return
    names = [name for name, _ in events_of(streamed)]
    assert names.count("done") + names.count("error") == 1, names


# Redis paused (hangs) or stopped (refuses): chats carry on without it.


@pytest.mark.parametrize("fault", ["paused", "stopped"])
async def test_redis_gone_keeps_chats_answering_and_caching_and_limits_resume(
    fault: str, redis: Running, on_redis: AsyncTestClient
) -> None:
    client = on_redis  # its visitors may send 3 messages a minute
    widget = await widget_with_a_document(client)
    key = {"X-Widget-Key": widget["public_key"]}

    async def ask(message: str, visitor: str) -> httpx.Response:
        body = {"message": message, "visitor_id": visitor}
        return await client.post("/api/widget/chat", json=body, headers=key)

    first, again = await ask("refund?", "a"), await ask("refund?", "b")
    assert (first.json()["cached"], again.json()["cached"]) == (False, True)

    with redis.paused() if fault == "paused" else redis.stopped():
        for _ in range(4):  # past the visitor's limit of 3: limits fail open
            answered, took = await timed(ask("How long can I return an item?", "c"))
            assert answered.status_code == 200, answered.text
            assert answered.json()["cached"] is False
            assert took < 5, f"a chat waited {took:.1f}s for Redis"
        ready = await client.get("/health/ready")
        assert ready.status_code == 200
        assert ready.json()["checks"]["cache"] == "degraded"

    async def cache_ok() -> bool:
        checks = (await client.get("/health/ready")).json()["checks"]
        return bool(checks["cache"] == "ok")

    await eventually(cache_ok, 15, f"the cache after Redis was {fault}")
    # Caching resumes: a new question is answered, then served from Redis.
    fresh, cached = await ask("Gift cards?", "d"), await ask("Gift cards?", "e")
    assert (fresh.json()["cached"], cached.json()["cached"]) == (False, True)
    # And limits count again: a fourth message within the minute is refused.
    statuses = [(await ask(f"question {n}", "f")).status_code for n in range(4)]
    assert statuses == [200, 200, 200, 429]


# PostgreSQL restarted while a document is being processed.


def _long_document(sections: int) -> str:
    parts = ["# Store handbook"]
    for n in range(sections):
        parts.append(
            f"## Policy {n}\n\n"
            + " ".join(
                f"Rule {n}.{k}: orders of type {n * 7 + k} ship within {k % 5 + 1} days, "
                f"and returns of them are accepted for {n % 30 + 10} days after delivery."
                for k in range(8)
            )
        )
    return "\n\n".join(parts)


async def _rows(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return await connection.fetch(sql, *args)
    finally:
        await connection.close()


async def test_postgres_restarted_during_ingestion_loses_and_doubles_nothing(
    postgres: Running, on_postgres: AsyncTestClient, request: pytest.FixtureRequest
) -> None:
    client = on_postgres
    created = await client.post(
        "/api/widgets",
        json={"tenant_id": "faults", "plan": "free", "name": "Faults"},
        headers=OWNER,
    )
    widget = created.json()
    accepted = await client.post(
        "/api/widget/process-document",
        json={"widget_id": widget["id"], "title": "Handbook", "text": _long_document(80)},
        headers=OWNER,
    )
    assert accepted.status_code == 202, accepted.text
    document_id = accepted.json()["document_id"]
    status_path = f"/api/widget/documents/{document_id}/status"

    async def embedding() -> dict[str, Any] | None:
        status = (await client.get(status_path, headers=OWNER)).json()
        progress = status["progress"]
        if status["stage"] == "embedding" and 0 < progress["done"] < progress["total"]:
            return dict(status)
        assert status["status"] != "ready", "processed before the restart: too short"
        return None

    before = await eventually(embedding, 60, "the document being embedded")
    total = before["progress"]["total"]
    postgres.stop()
    postgres.start()
    restarted_at = time.monotonic()

    async def finished() -> dict[str, Any] | None:
        try:
            response = await client.get(status_path, headers=OWNER)
        except httpx.TransportError:
            return None
        if response.status_code != 200:  # 503 while the server comes back
            return None
        status = response.json()
        return dict(status) if status["status"] in ("ready", "failed") else None

    after = await eventually(finished, 240, "the document finished after the restart")
    announce(
        request.config,
        f"ingestion restart: {total} chunks, done "
        f"{time.monotonic() - restarted_at:.1f}s after the restart",
    )
    assert after["status"] == "ready", after
    assert after["chunk_count"] == total
    assert after["error"] is None

    # Nothing doubled: one document, one job, done; exactly its chunks are indexed.
    listed = await client.get(f"/api/widget/documents?widget_id={widget['id']}", headers=OWNER)
    assert [d["document_id"] for d in listed.json()["documents"]] == [document_id]
    jobs = await _rows(
        postgres.url, "SELECT state FROM jobs WHERE document_id = $1", uuid.UUID(document_id)
    )
    assert [row["state"] for row in jobs] == ["done"]
    container = client.app.state.dishka_container
    vectors, embedder = await container.get(VectorStore), await container.get(Embedder)
    indexed = await live_chunks(
        vectors, uuid.UUID(widget["id"]), embedder.dimension, uuid.UUID(document_id)
    )
    assert sorted(chunk.index for chunk in indexed) == list(range(total))

    # And it answers from the whole document, its last section included.
    key = {"X-Widget-Key": widget["public_key"]}
    last = await client.post(
        "/api/widget/chat", json={"message": "Rule 79.3 orders ship within?"}, headers=key
    )
    assert last.status_code == 200, last.text
    assert any("79." in s["snippet"] for s in last.json()["sources"])
