"""PostgreSQL for tests: a fresh database per session, emptied after every test.

The server comes from, in order: TEST_DATABASE_URL (any server where we may create
databases), testcontainers when a Docker engine answers, pgserver under a temporary
directory. Whichever it is, the session gets its own `chatconnect_test_<random>`
database, migrated to head and dropped at the end.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from adapters.postgres.database import Database, create_pool
from adapters.postgres.urls import asyncpg_dsn

__all__ = ["fresh_database", "pg_database", "pg_pool", "postgres_server", "postgres_url"]

POSTGRES_IMAGE = "postgres:16-alpine"


@contextmanager
def _server() -> Iterator[tuple[str, str]]:
    """(how it was found, a URL on which CREATE DATABASE works)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield "TEST_DATABASE_URL", url
        return
    # As measured with an engine on this kind of machine: the Ryuk reaper is one more image
    # to pull (the container is stopped at teardown anyway), and the detected host may not
    # be reachable. Read by testcontainers at import, so set before it.
    os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
    os.environ.setdefault("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
    # Imported here, not above: every test session loads this module through conftest,
    # and these take ~0.3 s to import.
    from docker.errors import DockerException
    from testcontainers.community.postgres import PostgresContainer

    from adapters.postgres.embedded import start_embedded_postgres, stop_embedded_postgres

    try:
        container = PostgresContainer(POSTGRES_IMAGE, driver=None)
    except DockerException:
        container = None  # no Docker engine: its constructor says so within milliseconds
    if container is not None:
        with container:
            yield f"testcontainers ({POSTGRES_IMAGE})", container.get_connection_url()
        return
    with tempfile.TemporaryDirectory(prefix="chatconnect-pg-") as data_dir:
        url = start_embedded_postgres(Path(data_dir))
        try:
            yield f"pgserver (under {data_dir})", url
        finally:
            stop_embedded_postgres(Path(data_dir))  # before its directory is removed


def _on_database(server_url: str, name: str) -> str:
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


@asynccontextmanager
async def fresh_database(server_url: str) -> AsyncIterator[str]:
    """An empty database on the server, dropped afterwards; yields its URL."""
    name = f"chatconnect_test_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield _on_database(server_url, name)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def postgres_server(request: pytest.FixtureRequest) -> Iterator[str]:
    with _server() as (found_by, url):
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        if capture is not None and reporter is not None:
            with capture.global_and_fixture_disabled():
                reporter.write_line(f"\nPostgreSQL for tests: {found_by}")
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
