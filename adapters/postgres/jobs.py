"""The document-processing queue as a PostgreSQL table, claimed with SKIP LOCKED.

Times come from the database clock, so workers on hosts with skewed clocks agree on
when a job is due and when a lease has expired.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from adapters.postgres.database import Database
from application.ports.jobs import QueueStats
from domain.models import Job

_DUE = """
    (jobs.state = 'queued' AND jobs.available_at <= now())
    OR (jobs.state = 'running' AND jobs.leased_until < now())
"""

_CLAIM = f"""
WITH next AS (
    SELECT jobs.id, d.widget_id, w.tenant_id
    FROM jobs
    JOIN documents d ON d.id = jobs.document_id
    JOIN widgets w ON w.id = d.widget_id
    LEFT JOIN tenant_turns t ON t.tenant_id = w.tenant_id
    LEFT JOIN widget_turns wt ON wt.widget_id = d.widget_id
    WHERE {_DUE}
    ORDER BY t.served_at NULLS FIRST, wt.served_at NULLS FIRST, jobs.queued_at, jobs.id
    LIMIT 1
    FOR UPDATE OF jobs SKIP LOCKED
), claimed AS (
    UPDATE jobs
    SET state = 'running', attempts = attempts + 1,
        leased_until = now() + $1::interval, updated_at = now()
    FROM next WHERE jobs.id = next.id
    RETURNING jobs.id, jobs.document_id, jobs.attempts
), tenant_served AS (
    INSERT INTO tenant_turns (tenant_id, served_at)
    SELECT tenant_id, clock_timestamp() FROM next
    ON CONFLICT (tenant_id) DO UPDATE SET served_at = excluded.served_at
), widget_served AS (
    INSERT INTO widget_turns (widget_id, served_at)
    SELECT widget_id, clock_timestamp() FROM next
    ON CONFLICT (widget_id) DO UPDATE SET served_at = excluded.served_at
)
SELECT id, document_id, attempts FROM claimed
"""


class AsyncpgJobQueue:
    """Only the current holder of a job's lease (its claim's attempt number) may end it,
    so a worker that stalled past its lease cannot overwrite its successor's verdict."""

    def __init__(self, database: Database, lease_seconds: float = 60.0) -> None:
        self._database = database
        self._lease = timedelta(seconds=lease_seconds)

    async def stats(self) -> QueueStats:
        """Jobs per state, and how long the longest-waiting due job has waited."""
        async with self._database.connection() as connection:
            rows = await connection.fetch(
                """
                SELECT state, count(*) AS jobs,
                       coalesce(extract(epoch FROM now() - min(available_at)
                                FILTER (WHERE available_at <= now())), 0) AS waited
                FROM jobs GROUP BY state
                """
            )
        waited = next((float(r["waited"]) for r in rows if r["state"] == "queued"), 0.0)
        return QueueStats(
            jobs_by_state={r["state"]: r["jobs"] for r in rows}, oldest_queued_seconds=waited
        )

    async def enqueue(self, document_id: uuid.UUID) -> None:
        """Queues the document once: a queued or running job is left alone, a done or
        failed one starts over."""
        async with self._database.connection() as connection:
            await connection.execute(
                """
                INSERT INTO jobs (id, document_id, state, available_at, queued_at)
                VALUES ($1, $2, 'queued', now(), now())
                ON CONFLICT (document_id) DO UPDATE
                SET state = 'queued', attempts = 0, available_at = now(), queued_at = now(),
                    leased_until = NULL, last_error = NULL, updated_at = now()
                WHERE jobs.state IN ('done', 'failed')
                """,
                uuid.uuid4(),
                document_id,
            )

    async def claim(self) -> Job | None:
        """The next due job, or one whose worker let its lease expire; leased to the caller.

        Tenants, then their widgets, take turns by when each was last served (never served
        first); within a widget, jobs go in the order they were queued. Serving is recorded
        in the same statement as the claim."""
        async with self._database.connection() as connection:
            row = await connection.fetchrow(_CLAIM, self._lease)
        return Job(**row) if row is not None else None

    async def waiting_elsewhere(self, widget_id: uuid.UUID, for_seconds: float = 0.0) -> bool:
        async with self._database.connection() as connection:
            found = await connection.fetchval(
                """
                SELECT EXISTS (
                    SELECT 1 FROM jobs JOIN documents d ON d.id = jobs.document_id
                    WHERE ((jobs.state = 'queued' AND jobs.available_at <= now() - $2::interval)
                        OR (jobs.state = 'running' AND jobs.leased_until < now() - $2::interval))
                      AND d.widget_id <> $1
                )
                """,
                widget_id,
                timedelta(seconds=for_seconds),
            )
        return bool(found)

    async def pause(self, job: Job) -> None:
        async with self._database.connection() as connection:
            await connection.execute(
                """
                UPDATE jobs
                SET state = 'queued', attempts = 0, available_at = now(),
                    leased_until = NULL, updated_at = now()
                WHERE id = $1 AND attempts = $2 AND state = 'running'
                """,
                job.id,
                job.attempts,
            )

    async def heartbeat(self, job: Job) -> bool:
        """Extends the lease; False when it was lost (expired and claimed again, or ended)."""
        async with self._database.connection() as connection:
            extended = await connection.fetchval(
                """
                UPDATE jobs
                SET leased_until = now() + $3::interval, updated_at = now()
                WHERE id = $1 AND attempts = $2 AND state = 'running'
                RETURNING true
                """,
                job.id,
                job.attempts,
                self._lease,
            )
        return extended is not None

    async def complete(self, job: Job) -> None:
        async with self._database.connection() as connection:
            await connection.execute(
                """
                UPDATE jobs SET state = 'done', leased_until = NULL, updated_at = now()
                WHERE id = $1 AND attempts = $2 AND state = 'running'
                """,
                job.id,
                job.attempts,
            )

    async def retry(self, job: Job, error: str, delay_seconds: float) -> None:
        async with self._database.connection() as connection:
            await connection.execute(
                """
                UPDATE jobs
                SET state = 'queued', last_error = $2, available_at = now() + $3::interval,
                    leased_until = NULL, updated_at = now()
                WHERE id = $1 AND attempts = $4 AND state = 'running'
                """,
                job.id,
                error,
                timedelta(seconds=delay_seconds),
                job.attempts,
            )

    async def fail(self, job: Job, error: str) -> None:
        async with self._database.connection() as connection:
            await connection.execute(
                """
                UPDATE jobs SET state = 'failed', last_error = $2, leased_until = NULL,
                    updated_at = now()
                WHERE id = $1 AND attempts = $3 AND state = 'running'
                """,
                job.id,
                error,
                job.attempts,
            )
