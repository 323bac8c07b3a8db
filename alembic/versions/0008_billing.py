"""Billing that cannot be skipped, and spending ceilings: a question's usage event is
reserved when it is admitted (pending) and settled when it ends; each tenant's and each
widget's month is counted as it goes, so that the allowance is checked exactly, in one
statement, and the spending ceilings without summing the month; a widget's own ceiling.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_MONTH = "(date_trunc('month', created_at AT TIME ZONE 'UTC'))::date"


def upgrade() -> None:
    op.add_column(
        "usage_events",
        sa.Column("pending", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.add_column("usage_events", sa.Column("reason", sa.Text, nullable=True))
    # Messages counted against the allowance, per tenant and UTC calendar month: reservations
    # included, failed answers not. Only reservations (and rare settlements) write it.
    op.create_table(
        "tenant_usage_months",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("month", sa.Date, primary_key=True),
        sa.Column("messages", sa.Integer, nullable=False, server_default="0"),
    )
    # The cost billed per widget and month, over a few slots (by usage event) so that
    # answers settling at once do not queue on one row; a tenant's is the sum of its widgets'.
    op.create_table(
        "widget_usage_months",
        sa.Column("widget_id", UUID, primary_key=True),
        sa.Column("month", sa.Date, primary_key=True),
        sa.Column("slot", sa.SmallInteger, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("cost_usd", sa.Numeric(18, 8), nullable=False, server_default="0"),
    )
    op.create_index(
        "widget_usage_months_tenant_id_month_idx", "widget_usage_months", ["tenant_id", "month"]
    )
    op.execute(
        f"""
        INSERT INTO tenant_usage_months (tenant_id, month, messages)
        SELECT tenant_id, {_MONTH}, count(*) FILTER (WHERE NOT failed)
        FROM usage_events GROUP BY 1, 2
        """
    )
    op.execute(
        f"""
        INSERT INTO widget_usage_months (widget_id, month, slot, tenant_id, cost_usd)
        SELECT widget_id, {_MONTH}, 0, min(tenant_id),
               coalesce(sum(cost_usd) FILTER (WHERE NOT failed), 0)
        FROM usage_events GROUP BY 1, 2
        """
    )
    op.add_column("widgets", sa.Column("monthly_budget_usd", sa.Float, nullable=True))
    op.create_check_constraint(
        "widgets_monthly_budget_usd_not_negative", "widgets", "coalesce(monthly_budget_usd, 0) >= 0"
    )


def downgrade() -> None:
    op.drop_constraint("widgets_monthly_budget_usd_not_negative", "widgets")
    op.drop_column("widgets", "monthly_budget_usd")
    op.drop_table("widget_usage_months")
    op.drop_table("tenant_usage_months")
    op.drop_column("usage_events", "reason")
    op.drop_column("usage_events", "pending")
