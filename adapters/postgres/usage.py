"""Usage events in PostgreSQL, summed by the database."""

from __future__ import annotations

from datetime import datetime

from adapters.postgres.database import Database
from domain.models import ModelUsage, UsageSummary


class AsyncpgUsageRepository:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def summarize(self, tenant_id: str, since: datetime, until: datetime) -> UsageSummary:
        """Events with since <= created_at < until: one row per model, plus the total row
        (model NULL), which the empty grouping set yields even when there are no events."""
        async with self._database.connection() as connection:
            rows = await connection.fetch(
                """
                SELECT model,
                       count(*) AS messages,
                       coalesce(sum(input_tokens), 0) AS input_tokens,
                       coalesce(sum(output_tokens), 0) AS output_tokens,
                       coalesce(sum(cost_usd), 0) AS cost_usd
                FROM usage_events
                WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3
                GROUP BY GROUPING SETS ((model), ())
                ORDER BY model COLLATE "C" NULLS FIRST
                """,
                tenant_id,
                since,
                until,
            )
        total, *per_model = rows
        return UsageSummary(
            tenant_id=tenant_id,
            since=since,
            until=until,
            messages=total["messages"],
            input_tokens=total["input_tokens"],
            output_tokens=total["output_tokens"],
            cost_usd=float(total["cost_usd"]),
            by_model=tuple(
                ModelUsage(
                    model=row["model"],
                    messages=row["messages"],
                    input_tokens=row["input_tokens"],
                    output_tokens=row["output_tokens"],
                    cost_usd=float(row["cost_usd"]),
                )
                for row in per_model
            ),
        )
