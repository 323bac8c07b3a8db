"""The statements that keep each tenant's and widget's month counted as usage is reserved
and settled, so that the allowance and the spending ceilings never sum a month of events.

A reservation counts its message on the tenant's month row with a conditional upsert: the
row is locked, and a racing reservation re-reads it after the first commits, so N questions
racing for the last M messages admit exactly M. A settlement writes the event's tokens and
cost and moves the month rows by the difference, in the same statement.

The reservation commits without waiting for its WAL to reach the disk (synchronous_commit
off, for its own transaction only): it is the one write billing adds to a question's path,
and waiting for the disk is most of a write's time. What that risks is narrow: a database
crash in the fraction of a second before the WAL writer flushes it forgets the reservation,
and the settlement, which records an event never reserved as if it had been, counts the
question anyway; only a crash that also outlasts the answer loses its count.
"""

from __future__ import annotations

from adapters.postgres.rows import USAGE_COLUMNS

USAGE_FIELDS = USAGE_COLUMNS.count(",") + 1
# usage_events' column types, in USAGE_COLUMNS' order (an INSERT … SELECT of parameters).
_TYPES = [
    "uuid",
    "text",
    "uuid",
    "uuid",
    "uuid",
    "text",
    "text",
    "int",
    "int",
    "numeric",
    "bool",
    "bool",
    "bool",
    "text",
    "timestamptz",
]
assert len(_TYPES) == USAGE_FIELDS
_MONTH = "(date_trunc('month', {} AT TIME ZONE 'UTC'))::date"


def _values(first: int, *, typed: bool = False) -> str:
    return ", ".join(
        f"${first + n}::{kind}" if typed else f"${first + n}" for n, kind in enumerate(_TYPES)
    )


def settle_ctes(first: int) -> str:
    """CTEs (to follow a WITH and precede a final statement) settling the usage event whose
    columns are the parameters from `$first` on. Ends with the `settled_widget` CTE's
    upsert as a final statement: append nothing, or prefix with other CTEs."""
    return f"""
        prior AS (SELECT 1 FROM usage_events WHERE id = ${first}),
        event AS (
            INSERT INTO usage_events AS e ({USAGE_COLUMNS}) VALUES ({_values(first)})
            ON CONFLICT (id) DO UPDATE SET
                model = excluded.model, input_tokens = excluded.input_tokens,
                output_tokens = excluded.output_tokens, cost_usd = excluded.cost_usd,
                cached = excluded.cached, failed = excluded.failed, pending = false,
                reason = excluded.reason
            WHERE e.pending
            RETURNING e.tenant_id, e.widget_id, {_MONTH.format("e.created_at")} AS month,
                      NOT EXISTS (SELECT 1 FROM prior) AS fresh, e.failed, e.cost_usd
        ),
        settled_tenant AS (
            INSERT INTO tenant_usage_months AS m (tenant_id, month, messages, cost_usd)
            SELECT tenant_id, month,
                   CASE WHEN fresh THEN (NOT failed)::int ELSE -(failed::int) END,
                   CASE WHEN failed THEN 0 ELSE cost_usd END
            FROM event
            ON CONFLICT (tenant_id, month) DO UPDATE
            SET messages = m.messages + excluded.messages, cost_usd = m.cost_usd + excluded.cost_usd
        )
        INSERT INTO widget_usage_months AS w (widget_id, month, cost_usd)
        SELECT widget_id, month, CASE WHEN failed THEN 0 ELSE cost_usd END FROM event
        ON CONFLICT (widget_id, month) DO UPDATE SET cost_usd = w.cost_usd + excluded.cost_usd
    """


SETTLE = "WITH " + settle_ctes(1)

_LIMIT = USAGE_FIELDS + 1
_CREATED = f"${USAGE_FIELDS}::timestamptz"
RESERVE = f"""
    WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true)),
    counted AS (
        INSERT INTO tenant_usage_months AS m (tenant_id, month, messages)
        SELECT $2::text, {_MONTH.format(_CREATED)}, 1 WHERE ${_LIMIT}::int > 0
        ON CONFLICT (tenant_id, month) DO UPDATE SET messages = m.messages + 1
        WHERE m.messages < ${_LIMIT}::int
        RETURNING messages, cost_usd
    ),
    reserved AS (
        INSERT INTO usage_events ({USAGE_COLUMNS})
        SELECT {_values(1, typed=True)} FROM counted
    )
    SELECT messages, cost_usd, coalesce((
        SELECT cost_usd FROM widget_usage_months
        WHERE widget_id = $3::uuid AND month = {_MONTH.format(_CREATED)}
    ), 0) AS widget_cost_usd
    FROM counted, async_commit
"""

MONTH_TO_DATE = f"""
    SELECT t.messages, t.cost_usd, w.cost_usd AS widget_cost_usd
    FROM (SELECT {_MONTH.format("$3::timestamptz")} AS month) AS this
    LEFT JOIN tenant_usage_months AS t ON t.tenant_id = $1 AND t.month = this.month
    LEFT JOIN widget_usage_months AS w ON w.widget_id = $2 AND w.month = this.month
"""
