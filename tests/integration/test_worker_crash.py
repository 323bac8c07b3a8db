"""A worker SIGKILLed in the middle of a document: another finishes it, nothing twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from qdrant_edge import CountRequest, EdgeShard, FieldCondition, Filter, MatchValue

from adapters.postgres.database import Database, create_pool
from adapters.postgres.documents import AsyncpgDocumentRepository
from adapters.postgres.jobs import AsyncpgJobQueue
from adapters.postgres.widgets import AsyncpgWidgetRepository
from adapters.vectorstore.common import DOCUMENT, point_key
from domain.chunking import chunk_id
from domain.models import Document, DocumentStatus, Stage
from testkit.entities import a_document, a_widget
from tests.support.postgres import fresh_database

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
LEASE_SECONDS = 2
# ~65 chunks, embedded 32 at a time: the kill lands after the first batch.
CONTENT = "\n\n".join(
    f"Paragraph {n} explains how the returns desk handles parcel number {n * 7919 % 10007} "
    f"and why refunds for order {n} reach the original card within {n % 9 + 2} days."
    for n in range(400)
).encode()


@pytest.fixture
async def database_url(postgres_server: str) -> AsyncIterator[str]:
    """A database of its own: the workers take every queued job they find."""
    from adapters.postgres.migrations import upgrade_to_head

    async with fresh_database(postgres_server) as url:
        await asyncio.to_thread(upgrade_to_head, url)
        yield url


def start_worker(database_url: str, data_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("QDRANT_URL", "REDIS_URL")}
    env.update(
        DATABASE_URL=database_url,
        DATA_DIR=str(data_dir),
        JOB_LEASE_SECONDS=str(LEASE_SECONDS),
        LOG_FORMAT="json",
    )
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(BIN / "chatconnect"), "worker"], env=env, stdout=out, stderr=out
        )


async def wait_for(
    documents: AsyncpgDocumentRepository,
    document: Document,
    done: object,
    log: Path,
    seen: list[Document] | None = None,
) -> Document:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        current = await documents.get(document.id)
        assert current is not None
        if seen is not None:
            seen.append(current)
        if callable(done) and done(current):
            return current
        if current.status is DocumentStatus.FAILED:
            tail = (await asyncio.to_thread(log.read_text))[-3000:]
            pytest.fail(f"document failed: {current.error}\n{tail}")
        await asyncio.sleep(0.05)
    tail = (await asyncio.to_thread(log.read_text))[-3000:]
    pytest.fail(f"document never got there: {current}\n{tail}")


async def test_a_killed_worker_leaves_a_document_another_worker_finishes_once(
    database_url: str, tmp_path: Path
) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=2)
    database = Database(pool)
    widgets, documents = AsyncpgWidgetRepository(database), AsyncpgDocumentRepository(database)
    queue = AsyncpgJobQueue(database)
    widget = a_widget()
    await widgets.add(widget)
    target = a_document(widget.id, CONTENT, title="Returns")
    await documents.add(target, CONTENT)
    await queue.enqueue(target.id)
    log = tmp_path / "workers.log"

    first = start_worker(database_url, tmp_path, log)
    try:
        midway = await wait_for(
            documents,
            target,
            lambda d: d.stage is Stage.EMBEDDING and 0 < d.progress.done < d.progress.total / 2,
            log,
        )
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == -signal.SIGKILL

    second = start_worker(database_url, tmp_path, log)
    seen: list[Document] = []
    try:
        ready = await wait_for(
            documents, target, lambda d: d.status is DocumentStatus.READY, log, seen
        )
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    async with database.connection() as connection:
        attempts = await connection.fetchval(
            "SELECT attempts FROM jobs WHERE document_id = $1", target.id
        )
    await pool.close()

    assert midway.progress.total > 32
    assert ready.chunk_count == midway.progress.total  # the same cut, made twice
    assert ready.error is None
    # Live and staged points together: exactly the document's chunk ids, each once, and
    # nothing left over from the killed run.
    expected = {chunk_id(target.id, index) for index in range(ready.chunk_count)}
    shard = EdgeShard.load(str(next((tmp_path / "vectors").iterdir())))
    try:
        condition = FieldCondition(key=DOCUMENT, match=MatchValue(str(target.id)))
        count = shard.count(CountRequest(exact=True, filter=Filter(must=[condition])))
        found = {point_key(r.id) for r in shard.retrieve(list(expected), False, False)}
    finally:
        shard.close()
    assert count == len(expected) == len(found)
    assert found == {str(point_id) for point_id in expected}
    assert attempts == 2  # claimed by the killed worker, then by its successor
    # Taken up where the killed worker stopped: what it had embedded is not embedded again.
    embedding = [d.progress.done for d in seen if d.stage is Stage.EMBEDDING]
    assert embedding and min(embedding) >= midway.progress.done
