"""A visitor erased from the app on PostgreSQL and Redis: nothing of them remains in
either, their usage stays billed."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as redis
from litestar.testing import AsyncTestClient

from adapters.postgres.urls import asyncpg_dsn
from application.answer_cache import normalize
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.integration.test_operations import OWNER, widget_with_a_document

pytestmark = pytest.mark.integration
# Unique to each run: the Redis of the tests outlives them, with earlier runs' keys.
RUN = uuid.uuid4().hex[:8]
VISITOR = f"visitor-to-forget-{RUN}"
SECRET = f"My card ending 4242 was charged twice for the return {RUN}"
FOLLOW_UPS = (f"Thanks, this is Ana Quaresma {RUN} speaking", f"Could you check order {RUN}?")


@pytest.fixture
async def client(
    postgres_url: str, redis_url: str, tmp_path: Path
) -> AsyncIterator[AsyncTestClient]:
    settings = Settings(
        data_dir=tmp_path,
        database_url=postgres_url,
        redis_url=redis_url,
        admin_token="ops-token",
        log_format="json",
    )
    async with AsyncTestClient(create_app(settings), timeout=30) as test_client:
        yield test_client


async def _redis(redis_url: str) -> list[tuple[str, bytes]]:
    """Every key of the app's (prefix `chatconnect:`) with its value, if it holds one."""
    client = redis.Redis.from_url(redis_url)
    try:
        found = []
        async for key in client.scan_iter(match="chatconnect:*", count=1000):
            value = await client.get(key) if await client.type(key) == b"string" else b""
            found.append((key.decode(), value or b""))
        return found
    finally:
        await client.aclose()


async def _postgres(postgres_url: str) -> str:
    connection = await asyncpg.connect(asyncpg_dsn(postgres_url))
    try:
        tables = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )
        rows = []
        for table in tables:
            rows += await connection.fetch(
                f'SELECT row_to_json(t)::text AS row FROM "{table["tablename"]}" t'
            )
        return "\n".join(row["row"] for row in rows)
    finally:
        await connection.close()


def _digest(question: str) -> str:
    """How the question-vector cache names a question (application/chat/question_vectors)."""
    return hashlib.sha256(normalize(question).encode()).hexdigest()[:32]


async def test_an_erased_visitor_leaves_nothing_in_postgresql_or_redis(
    client: AsyncTestClient, postgres_url: str, redis_url: str
) -> None:
    widget = await widget_with_a_document(client)
    key = {"X-Widget-Key": widget["public_key"]}
    first = await client.post(
        "/api/widget/chat", json={"message": SECRET, "visitor_id": VISITOR}, headers=key
    )
    conversation_id = first.json()["conversation_id"]
    for question in FOLLOW_UPS:  # follow-ups read (and cache) the conversation's history
        answered = await client.post(
            "/api/widget/chat",
            json={"message": question, "visitor_id": VISITOR, "conversation_id": conversation_id},
            headers=key,
        )
        assert answered.status_code == 200, answered.text
    questions = (SECRET, *FOLLOW_UPS)
    before = await _redis(redis_url)
    # What erasure must reach is there: the questions' vectors and the answers (a history
    # is cached only while a turn reads it).
    assert any(k.startswith(f"chatconnect:answer:{widget['id']}:") for k, _ in before)
    assert all(any(_digest(q) in k for k, _ in before) for q in questions)
    assert SECRET in await _postgres(postgres_url)

    erased = await client.delete(f"/api/widgets/{widget['id']}/visitors/{VISITOR}", headers=OWNER)

    assert erased.status_code == 204
    after = await _redis(redis_url)
    assert not [k for k, _ in after if conversation_id in k]
    assert not [k for k, _ in after if k.startswith(f"chatconnect:answer:{widget['id']}:")]
    assert not [k for k, _ in after if any(_digest(q) in k for q in questions)]
    assert not [k for k, v in after if any(q.encode() in v for q in questions)]
    everything = await _postgres(postgres_url)
    for trace in (VISITOR, conversation_id, *questions):
        assert trace not in everything
    usage = await client.get("/api/usage", params={"tenant_id": "ops"}, headers=OWNER)
    assert usage.json()["messages"] >= 3  # still billed, unlinked
