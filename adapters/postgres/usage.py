"""Usage events in PostgreSQL, summed by the database; reserved and settled with the
month's counts (usage_months.py)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from adapters.postgres.database import Database
from adapters.postgres.rows import usage_row
from adapters.postgres.usage_months import MONTH_TO_DATE, RESERVE, SETTLE
from domain.models import (
    OVER_BUDGET,
    FailedUsage,
    ModelUsage,
    MonthToDate,
    UsageEvent,
    UsageGroup,
    UsageGrouping,
    UsageSummary,
)

_KEY = {
    UsageGrouping.DAY: "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
    UsageGrouping.WIDGET: "widget_id::text",
    UsageGrouping.MODEL: "model",
}
_SUMS = f"""
    count(*) FILTER (WHERE NOT failed) AS messages,
    coalesce(sum(input_tokens) FILTER (WHERE NOT failed), 0) AS input_tokens,
    coalesce(sum(output_tokens) FILTER (WHERE NOT failed), 0) AS output_tokens,
    coalesce(sum(cost_usd) FILTER (WHERE NOT failed), 0) AS cost_usd,
    count(*) FILTER (WHERE failed) AS failed,
    coalesce(sum(input_tokens) FILTER (WHERE failed), 0) AS failed_input_tokens,
    coalesce(sum(output_tokens) FILTER (WHERE failed), 0) AS failed_output_tokens,
    coalesce(sum(cost_usd) FILTER (WHERE failed), 0) AS failed_cost_usd,
    count(*) FILTER (WHERE reason = '{OVER_BUDGET}') AS over_budget
"""


def _statement(group_by: UsageGrouping) -> str:
    """One scan, three groupings: per model (kept for `by_model`), per `group_by`, and the
    total (the empty grouping set, which yields a row even when there are no events)."""
    key = _KEY[group_by]
    sets = "(model), ()" if group_by is UsageGrouping.MODEL else f"(model), ({key}), ()"
    return f"""
        SELECT model, {key} AS key, {_SUMS}
        FROM usage_events
        WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3
          AND ($4::uuid IS NULL OR widget_id = $4)
        GROUP BY GROUPING SETS ({sets})
    """


_STATEMENTS = {group_by: _statement(group_by) for group_by in UsageGrouping}


def _group(row: asyncpg.Record) -> UsageGroup:
    return UsageGroup(
        key=row["key"],
        messages=row["messages"],
        input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"],
        cost_usd=float(row["cost_usd"]),
        failed=row["failed"],
    )


def _month(row: asyncpg.Record | None) -> MonthToDate:
    if row is None:
        return MonthToDate()
    return MonthToDate(
        tenant_messages=row["messages"] or 0,
        tenant_cost_usd=float(row["cost_usd"] or 0),
        widget_cost_usd=float(row["widget_cost_usd"] or 0),
    )


class AsyncpgUsageRepository:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def reserve(self, event: UsageEvent, messages_per_month: int) -> MonthToDate | None:
        async with self._database.connection() as connection:
            row = await connection.fetchrow(RESERVE, *usage_row(event), messages_per_month)
        return None if row is None else _month(row)

    async def settle(self, event: UsageEvent) -> None:
        async with self._database.connection() as connection:
            await connection.execute(SETTLE, *usage_row(event))

    async def month_to_date(self, tenant_id: str, widget_id: UUID, at: datetime) -> MonthToDate:
        async with self._database.connection() as connection:
            row = await connection.fetchrow(MONTH_TO_DATE, tenant_id, widget_id, at)
        return _month(row)

    async def summarize(
        self,
        tenant_id: str,
        since: datetime,
        until: datetime,
        *,
        widget_id: UUID | None = None,
        group_by: UsageGrouping = UsageGrouping.MODEL,
    ) -> UsageSummary:
        async with self._database.connection() as connection:
            rows = await connection.fetch(_STATEMENTS[group_by], tenant_id, since, until, widget_id)
        by_model, groups, total = [], [], None
        for row in rows:
            if row["model"] is not None:
                by_model.append(row)
            elif row["key"] is not None:
                groups.append(row)
            else:
                total = row
        assert total is not None  # the empty grouping set always yields its row
        if group_by is UsageGrouping.MODEL:
            groups = by_model
        return UsageSummary(
            tenant_id=tenant_id,
            since=since,
            until=until,
            widget_id=widget_id,
            group_by=group_by,
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
                for row in sorted(by_model, key=lambda row: row["model"])
                if row["messages"]
            ),
            groups=tuple(sorted((_group(row) for row in groups), key=lambda g: g.key)),
            failed=FailedUsage(
                messages=total["failed"],
                input_tokens=total["failed_input_tokens"],
                output_tokens=total["failed_output_tokens"],
                cost_usd=float(total["failed_cost_usd"]),
            ),
            over_budget=total["over_budget"],
        )
