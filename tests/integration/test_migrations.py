"""The alembic migrations on real, freshly created databases."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from alembic.command import downgrade, upgrade
from alembic.script import ScriptDirectory

from adapters.postgres.conversations import AsyncpgConversationRepository
from adapters.postgres.database import Database, create_pool
from adapters.postgres.documents import AsyncpgDocumentRepository
from adapters.postgres.exchanges import AsyncpgExchangeRepository
from adapters.postgres.jobs import AsyncpgJobQueue
from adapters.postgres.migrations import PROJECT_ROOT, alembic_config, upgrade_to_head
from adapters.postgres.urls import asyncpg_dsn
from adapters.postgres.usage import AsyncpgUsageRepository
from adapters.postgres.widgets import AsyncpgWidgetRepository
from application.ports.storage import Exchange
from domain.models import (
    DEFAULT_LIMIT_MESSAGE,
    Conversation,
    Message,
    Role,
    Source,
    Usage,
    UsageEvent,
)
from testkit.entities import EPOCH, a_document, a_widget
from tests.support.postgres import fresh_database

pytestmark = pytest.mark.integration

TABLES = {
    "widgets",
    "documents",
    "document_contents",
    "jobs",
    "conversations",
    "messages",
    "usage_events",
    "feedback",
    "tenant_turns",
    "widget_turns",
    "ingestion_usage",
    "tenant_usage_months",
    "widget_usage_months",
}


async def query(url: str, sql: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return await connection.fetch(sql)
    finally:
        await connection.close()


async def tables(url: str) -> set[str]:
    rows = await query(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {row["tablename"] for row in rows}


async def versions(url: str) -> list[str]:
    return [row["version_num"] for row in await query(url, "SELECT * FROM alembic_version")]


def head(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


async def test_upgrade_downgrade_upgrade_on_an_empty_database(postgres_server: str) -> None:
    async with fresh_database(postgres_server) as url:
        await asyncio.to_thread(upgrade_to_head, url)
        assert await tables(url) == TABLES | {"alembic_version"}
        assert await versions(url) == [head(url)]

        await asyncio.to_thread(downgrade, alembic_config(url), "base")
        assert await tables(url) == {"alembic_version"}
        assert await versions(url) == []

        await asyncio.to_thread(upgrade_to_head, url)
        assert await tables(url) == TABLES | {"alembic_version"}


async def test_upgrading_a_database_that_holds_data_keeps_it(postgres_server: str) -> None:
    async with fresh_database(postgres_server) as url:
        await asyncio.to_thread(upgrade_to_head, url)
        pool = await create_pool(url)
        try:
            database = Database(pool)
            widget = a_widget()
            document = a_document(widget.id)
            conversation = Conversation(
                id=uuid.uuid4(), widget_id=widget.id, visitor_id=None, created_at=EPOCH
            )
            message = Message(
                id=uuid.uuid4(),
                conversation_id=conversation.id,
                role=Role.ASSISTANT,
                content="Thirty days.",
                created_at=EPOCH,
                sources=(
                    Source(
                        index=1, document_id=document.id, title="FAQ", snippet="30 days", score=0.9
                    ),
                ),
            )
            await AsyncpgWidgetRepository(database).add(widget)
            await AsyncpgDocumentRepository(database).add(document, b"hello")
            await AsyncpgJobQueue(database).enqueue(document.id)
            usage = UsageEvent(
                id=uuid.uuid4(),
                tenant_id=widget.tenant_id,
                widget_id=widget.id,
                conversation_id=conversation.id,
                message_id=message.id,
                plan=widget.plan,
                model="extractive",
                usage=Usage(12, 3, 0.0),
                created_at=EPOCH,
            )
            await AsyncpgExchangeRepository(database).save(
                Exchange(new_conversation=conversation, messages=(message,), usage=usage)
            )

            await asyncio.to_thread(upgrade_to_head, url)

            assert await versions(url) == [head(url)]
            assert await AsyncpgWidgetRepository(database).get(widget.id) == widget
            assert await AsyncpgDocumentRepository(database).content(document.id) == b"hello"
            recent = await AsyncpgConversationRepository(database).recent_messages(
                conversation.id, 5
            )
            assert recent == [message]
            billed = await AsyncpgUsageRepository(database).summarize(
                widget.tenant_id, EPOCH, EPOCH + timedelta(days=1)
            )
            assert (billed.messages, billed.input_tokens) == (1, 12)
            claimed = await AsyncpgJobQueue(database).claim()
            assert claimed is not None and claimed.document_id == document.id
        finally:
            await pool.close()


# Rows as the first revision's schema had them, written before any later migration ran.
WIDGET, DOCUMENT, JOB, CONVERSATION, MESSAGE, USAGE = (uuid.uuid4() for _ in range(6))
FIRST_REVISION_ROWS = [
    (
        """INSERT INTO widgets (id, tenant_id, plan, name, public_key, allowed_origins,
                               system_prompt, no_answer_message, top_k, created_at, updated_at)
           VALUES ($1, 'acme', 'paid', 'Help', 'wk_old', '{https://acme.test}', 'Be brief.',
                   'No idea.', 4, now(), now())""",
        (WIDGET,),
    ),
    (
        """INSERT INTO documents (id, widget_id, title, content_type, size_bytes, sha256,
                                 status, chunk_count, created_at, updated_at)
           VALUES ($1, $2, 'FAQ', 'text/markdown', 5, 'abc', 'ready', 3, now(), now())""",
        (DOCUMENT, WIDGET),
    ),
    ("INSERT INTO document_contents VALUES ($1, 'hello')", (DOCUMENT,)),
    (
        "INSERT INTO jobs (id, document_id, state, available_at) VALUES ($1, $2, 'queued', now())",
        (JOB, DOCUMENT),
    ),
    (
        "INSERT INTO conversations VALUES ($1, $2, 'visitor', now())",
        (CONVERSATION, WIDGET),
    ),
    (
        """INSERT INTO messages (id, conversation_id, role, content, created_at)
           VALUES ($1, $2, 'user', 'How long?', now())""",
        (MESSAGE, CONVERSATION),
    ),
    (
        """INSERT INTO usage_events (id, tenant_id, widget_id, conversation_id, message_id,
                                    plan, model, input_tokens, output_tokens, cost_usd,
                                    created_at)
           VALUES ($1, 'acme', $2, $3, $4, 'paid', 'gpt-4o-mini', 10, 5, 0.001, now())""",
        (USAGE, WIDGET, CONVERSATION, MESSAGE),
    ),
]


async def test_upgrading_over_data_written_at_the_first_revision_keeps_it(
    postgres_server: str,
) -> None:
    async with fresh_database(postgres_server) as url:
        first = ScriptDirectory.from_config(alembic_config(url)).get_base()
        assert first is not None and first != head(url), "one revision only: nothing to test"
        await asyncio.to_thread(upgrade, alembic_config(url), first)
        connection = await asyncpg.connect(asyncpg_dsn(url))
        try:
            for statement, arguments in FIRST_REVISION_ROWS:
                await connection.execute(statement, *arguments)
        finally:
            await connection.close()

        await asyncio.to_thread(upgrade_to_head, url)

        assert await versions(url) == [head(url)]
        pool = await create_pool(url)
        try:
            database = Database(pool)
            widget = await AsyncpgWidgetRepository(database).get(WIDGET)
            assert widget is not None
            assert (widget.name, widget.public_key, widget.top_k) == ("Help", "wk_old", 4)
            assert widget.allowed_origins == ("https://acme.test",)
            # Columns added later hold their defaults.
            assert widget.limit_message == DEFAULT_LIMIT_MESSAGE
            assert (widget.visitor_limit_per_minute, widget.models) == (None, ())
            documents = AsyncpgDocumentRepository(database)
            document = await documents.get(DOCUMENT)
            assert document is not None
            assert (document.title, document.chunk_count, document.revision) == ("FAQ", 3, 1)
            assert await documents.content(DOCUMENT) == b"hello"
            history = await AsyncpgConversationRepository(database).recent_messages(CONVERSATION, 5)
            assert [m.content for m in history] == ["How long?"]
            claimed = await AsyncpgJobQueue(database).claim()
            assert claimed is not None and claimed.document_id == DOCUMENT
            assert (await query(url, "SELECT count(*) AS n FROM usage_events"))[0]["n"] == 1
            # Usage recorded before the month's counts existed is counted into them.
            month = await AsyncpgUsageRepository(database).month_to_date(
                "acme", WIDGET, datetime.now(UTC)
            )
            assert (month.tenant_messages, month.widget_cost_usd) == (1, 0.001)
        finally:
            await pool.close()


# A service replica starting: imports done, it migrates at the agreed instant.
STARTER = """
import sys, time
from adapters.postgres.migrations import upgrade_to_head
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
upgrade_to_head(sys.argv[1])
"""


async def test_concurrent_starters_migrate_once(postgres_server: str) -> None:
    async with fresh_database(postgres_server) as url:
        start_at = str(time.time() + 3)  # time enough for the processes' imports
        processes = [
            await asyncio.create_subprocess_exec(sys.executable, "-c", STARTER, url, start_at)
            for _ in range(3)
        ]
        exit_codes = [await asyncio.wait_for(p.wait(), timeout=60) for p in processes]

        assert exit_codes == [0, 0, 0]
        assert await tables(url) == TABLES | {"alembic_version"}
        assert await versions(url) == [head(url)]


async def test_concurrent_upgrades_in_one_process_take_turns(postgres_server: str) -> None:
    async with fresh_database(postgres_server) as url:
        upgrades = [asyncio.to_thread(upgrade_to_head, url) for _ in range(3)]
        await asyncio.wait_for(asyncio.gather(*upgrades), timeout=60)

        assert await versions(url) == [head(url)]


async def test_the_alembic_command_line_takes_database_url(postgres_server: str) -> None:
    def alembic(*args: str, url: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "alembic", *args],
            cwd=PROJECT_ROOT,
            env={**os.environ, "DATABASE_URL": url},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout

    async with fresh_database(postgres_server) as url:
        await asyncio.to_thread(alembic, "upgrade", "head", url=url)
        current = await asyncio.to_thread(alembic, "current", url=url)

        assert f"{head(url)} (head)" in current
        assert await tables(url) == TABLES | {"alembic_version"}

    offline_sql = await asyncio.to_thread(alembic, "upgrade", "head", "--sql", url=url)
    assert "CREATE TABLE widgets" in offline_sql
