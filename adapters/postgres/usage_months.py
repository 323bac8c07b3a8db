"""The statements that keep each tenant's and widget's month counted as usage is reserved
and settled, so that the allowance and the spending ceilings never sum a month of events.

A reservation counts its message on the tenant's month row with a conditional upsert: the
row is locked, and a racing reservation re-reads it after the first commits, so N questions
racing for the last M messages admit exactly M. A settlement writes the event's tokens and
cost, in the same statement adds the cost to one of the widget's month slots (answers of one
widget settling at once take different rows, not turns on one), and touches the tenant's
row only to give back a failed answer's message or count one never reserved.

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


_SLOTS = 16
_SLOT = f"get_byte(uuid_send(e.id), 15) % {_SLOTS}"


def settle_ctes(first: int) -> str:
    """CTEs (to follow a WITH and other CTEs) settling the usage event whose columns are the
    parameters from `$first` on; the last of them is the statement's final one."""
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
                      {_SLOT} AS slot, NOT EXISTS (SELECT 1 FROM prior) AS fresh, e.failed,
                      e.cost_usd
        ),
        -- Reserved and failed: its message back; never reserved and answered: counted now.
        settled_tenant AS (
            INSERT INTO tenant_usage_months AS m (tenant_id, month, messages)
            SELECT tenant_id, month, CASE WHEN fresh THEN 1 ELSE -1 END
            FROM event WHERE fresh <> failed
            ON CONFLICT (tenant_id, month) DO UPDATE SET messages = m.messages + excluded.messages
        )
        INSERT INTO widget_usage_months AS w (widget_id, month, slot, tenant_id, cost_usd)
        SELECT widget_id, month, slot, tenant_id, cost_usd FROM event
        WHERE NOT failed AND cost_usd > 0
        ON CONFLICT (widget_id, month, slot) DO UPDATE SET cost_usd = w.cost_usd + excluded.cost_usd
    """


SETTLE = "WITH " + settle_ctes(1)

_LIMIT = USAGE_FIELDS + 1
_CREATED = f"${USAGE_FIELDS}::timestamptz"
_THIS_MONTH = _MONTH.format(_CREATED)
# Its own transaction only: see the module's docstring.
RESERVE = f"""
    WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true)),
    counted AS (
        INSERT INTO tenant_usage_months AS m (tenant_id, month, messages)
        SELECT $2::text, {_THIS_MONTH}, 1 WHERE ${_LIMIT}::int > 0
        ON CONFLICT (tenant_id, month) DO UPDATE SET messages = m.messages + 1
        WHERE m.messages < ${_LIMIT}::int
        RETURNING messages
    ),
    reserved AS (
        INSERT INTO usage_events ({USAGE_COLUMNS})
        SELECT {_values(1, typed=True)} FROM counted
    )
    SELECT messages,
        (SELECT sum(cost_usd) FROM widget_usage_months
         WHERE tenant_id = $2::text AND month = {_THIS_MONTH}) AS cost_usd,
        (SELECT sum(cost_usd) FROM widget_usage_months
         WHERE widget_id = $3::uuid AND month = {_THIS_MONTH}) AS widget_cost_usd
    FROM counted, async_commit
"""

_MONTH_OF_AT = _MONTH.format("$3::timestamptz")
MONTH_TO_DATE = f"""
    SELECT
        (SELECT messages FROM tenant_usage_months
         WHERE tenant_id = $1 AND month = {_MONTH_OF_AT}) AS messages,
        (SELECT sum(cost_usd) FROM widget_usage_months
         WHERE tenant_id = $1 AND month = {_MONTH_OF_AT}) AS cost_usd,
        (SELECT sum(cost_usd) FROM widget_usage_months
         WHERE widget_id = $2 AND month = {_MONTH_OF_AT}) AS widget_cost_usd
"""
