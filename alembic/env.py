"""Runs the migrations through SQLAlchemy's asyncio engine on the asyncpg driver."""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig

from sqlalchemy import Connection, pool, text
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.postgres.urls import sqlalchemy_url
from alembic import context

# "CHATCONN" in ASCII: the advisory lock id every starter agrees on.
MIGRATION_LOCK_ID = 0x43484154434F4E4E

config = context.config

# Run from the service, the app's own logging must survive; from the CLI, use alembic.ini's.
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    url = config.attributes.get("url") or os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("no database URL: set DATABASE_URL")
    return sqlalchemy_url(url)


def run_migrations_offline() -> None:
    context.configure(url=database_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_locked_migrations(connection: Connection) -> None:
    context.configure(connection=connection)
    with context.begin_transaction():
        # All revisions run in this one transaction. Concurrent starters wait here until the
        # first commits, then read the version table and find nothing left to do.
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        context.run_migrations()


async def run_migrations_online() -> None:
    engine = create_async_engine(database_url(), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_locked_migrations)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
