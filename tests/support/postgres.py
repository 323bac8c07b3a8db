"""PostgreSQL for tests: a fresh database per session, emptied after every test.

The server comes from, as TEST_SERVICES says (tests/support/containers.py): by default
TEST_DATABASE_URL (any server where we may create databases), else a container through
testcontainers when a Docker engine answers, else pgserver under a temporary directory.
Whichever it is, the session gets its own `chatconnect_test_<random>` database, migrated
to head and dropped at the end.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import pytest

from adapters.postgres.database import Database, create_pool
from testkit.postgres import fresh_database
from tests.support.containers import (
    POSTGRES_IMAGE,
    announce,
    container_problem,
    postgres_container,
    services_mode,
)

__all__ = ["fresh_database", "pg_database", "pg_pool", "postgres_server", "postgres_url"]


@contextmanager
def _server() -> Iterator[tuple[str, str]]:
    """(how it was found, a URL on which CREATE DATABASE works)."""
    mode = services_mode()
    url = os.environ.get("TEST_DATABASE_URL")
    if url and mode in ("auto", "env"):
        yield "TEST_DATABASE_URL", url
        return
    why_not = container_problem(POSTGRES_IMAGE)
    if why_not is None:
        with postgres_container() as running:
            yield running.describe(), running.url
        return
    if mode == "containers":
        raise RuntimeError(f"TEST_SERVICES=containers, but {why_not}")
    # Imported here: every test session loads this module through conftest.
    from adapters.postgres.embedded import start_embedded_postgres, stop_embedded_postgres

    with tempfile.TemporaryDirectory(prefix="chatconnect-pg-") as data_dir:
        url = start_embedded_postgres(Path(data_dir))
        try:
            yield f"pgserver under {data_dir} (no container: {why_not})", url
        finally:
            stop_embedded_postgres(Path(data_dir))  # before its directory is removed


@pytest.fixture(scope="session")
def postgres_server(request: pytest.FixtureRequest) -> Iterator[str]:
    with _server() as (found_by, url):
        announce(request.config, f"PostgreSQL for tests: {found_by}")
        yield url


@pytest.fixture(scope="session")
async def postgres_url(postgres_server: str) -> AsyncIterator[str]:
    """This session's database, migrated to head."""
    from adapters.postgres.migrations import upgrade_to_head  # alembic: slow to import

    async with fresh_database(postgres_server) as url:
        await asyncio.to_thread(upgrade_to_head, url)
        yield url


@pytest.fixture(scope="session")
async def pg_pool(postgres_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(postgres_url, min_size=1, max_size=10)
    yield pool
    await pool.close()


@pytest.fixture
async def pg_database(pg_pool: asyncpg.Pool) -> AsyncIterator[Database]:
    """The session database, emptied of every row after the test."""
    yield Database(pg_pool)
    async with pg_pool.acquire() as connection:
        tables = await connection.fetchval(
            """
            SELECT string_agg(format('%I', tablename), ', ')
            FROM pg_tables
            WHERE schemaname = current_schema() AND tablename <> 'alembic_version'
            """
        )
        await connection.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
