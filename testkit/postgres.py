"""Scratch PostgreSQL databases for tests and benchmarks: created empty, dropped after use.

Both take a server URL on which CREATE DATABASE works; which server that is (an environment
URL, a container, pgserver) is the caller's business.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from adapters.postgres.urls import asyncpg_dsn

__all__ = ["bench_server_url", "fresh_database", "scratch_database"]


def bench_server_url() -> str:
    """The server a benchmark makes its scratch database on."""
    return (
        os.environ.get("BENCH_DATABASE_URL")
        or os.environ.get("TEST_DATABASE_URL")
        or "postgresql://postgres@127.0.0.1:5432/postgres"
    )


@asynccontextmanager
async def fresh_database(server_url: str, prefix: str = "chatconnect_test_") -> AsyncIterator[str]:
    """An empty database on the server, dropped (connections and all) afterwards; yields its
    URL."""
    name = f"{prefix}{secrets.token_hex(6)}"
    admin = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@contextmanager
def scratch_database(server_url: str, prefix: str = "chatconnect_bench_") -> Iterator[str]:
    """`fresh_database` for synchronous code (a benchmark's main, which runs its own event
    loops): the database outlives every loop run inside the block."""
    database = fresh_database(server_url, prefix)
    runner = asyncio.Runner()
    try:
        url = runner.run(database.__aenter__())
        try:
            yield url
        finally:
            runner.run(database.__aexit__(None, None, None))
    finally:
        runner.close()
