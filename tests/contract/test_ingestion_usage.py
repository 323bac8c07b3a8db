"""Contract of the IngestionUsageRepository port, held by the fake and the asyncpg adapter:
what a tenant took in this month, decided and recorded at once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from adapters.postgres.database import Database
from adapters.postgres.ingestion_usage import AsyncpgIngestionUsageRepository
from testkit.fakes.ingestion import MemoryIngestionUsageRepository

Usage = MemoryIngestionUsageRepository | AsyncpgIngestionUsageRepository
MONTH = datetime.now(UTC) - timedelta(days=1)


@pytest.fixture(params=["memory", pytest.param("asyncpg", marks=pytest.mark.integration)])
def usage(request: pytest.FixtureRequest) -> Usage:
    if request.param == "memory":
        return MemoryIngestionUsageRepository()
    database: Database = request.getfixturevalue("pg_database")
    return AsyncpgIngestionUsageRepository(database)


def tenant() -> str:
    return f"tenant-{uuid.uuid4()}"


async def test_documents_are_counted_up_to_the_limit(usage: Usage) -> None:
    acme, other = tenant(), tenant()
    for _ in range(2):
        assert await usage.count_document(acme, uuid.uuid4(), 1, MONTH, 2) is None

    assert await usage.count_document(acme, uuid.uuid4(), 1, MONTH, 2) == 2
    assert await usage.count_document(other, uuid.uuid4(), 1, MONTH, 2) is None  # its own
    assert await usage.count_document(acme, uuid.uuid4(), 1, MONTH, None) is None  # no limit


async def test_a_revision_is_counted_once_and_a_new_one_again(usage: Usage) -> None:
    acme, document = tenant(), uuid.uuid4()
    assert await usage.count_document(acme, document, 1, MONTH, 2) is None
    assert await usage.count_document(acme, document, 1, MONTH, 2) is None  # the same one

    assert await usage.count_document(acme, document, 2, MONTH, 2) is None
    assert await usage.count_document(acme, uuid.uuid4(), 1, MONTH, 2) == 2


async def test_last_months_documents_do_not_count(usage: Usage) -> None:
    acme = tenant()
    assert await usage.count_document(acme, uuid.uuid4(), 1, MONTH, 1) is None

    later = datetime.now(UTC) + timedelta(seconds=1)  # as if a new month began
    assert await usage.count_document(acme, uuid.uuid4(), 1, later, 1) is None


async def test_chunks_are_refused_past_the_limit_and_recounted_idempotently(
    usage: Usage,
) -> None:
    acme, first, second = tenant(), uuid.uuid4(), uuid.uuid4()
    assert await usage.count_chunks(acme, first, 1, 600, MONTH, 1000) is None
    assert await usage.count_chunks(acme, first, 1, 600, MONTH, 1000) is None  # resumed run

    assert await usage.count_chunks(acme, second, 1, 401, MONTH, 1000) == 600
    assert await usage.count_chunks(acme, second, 1, 400, MONTH, 1000) is None
    assert await usage.count_chunks(acme, uuid.uuid4(), 1, 1, MONTH, 1000) == 1000


async def test_concurrent_uploads_cannot_pass_the_limit_together(usage: Usage) -> None:
    acme = tenant()

    taken = await asyncio.gather(
        *(usage.count_document(acme, uuid.uuid4(), 1, MONTH, 3) for _ in range(10))
    )

    assert sum(1 for t in taken if t is None) == 3
