"""Per-widget rate limits and the message shown when one is reached.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

DEFAULT_LIMIT_MESSAGE = "You're sending messages too quickly. Please wait a moment."


def upgrade() -> None:
    op.add_column(
        "widgets",
        sa.Column(
            "limit_message", sa.Text(), nullable=False, server_default=DEFAULT_LIMIT_MESSAGE
        ),
    )
    op.add_column("widgets", sa.Column("visitor_limit_per_minute", sa.Integer(), nullable=True))
    op.add_column("widgets", sa.Column("widget_limit_per_minute", sa.Integer(), nullable=True))
    op.create_check_constraint(
        "widgets_limits_positive",
        "widgets",
        "coalesce(visitor_limit_per_minute, 1) >= 1 AND coalesce(widget_limit_per_minute, 1) >= 1",
    )


def downgrade() -> None:
    op.drop_constraint("widgets_limits_positive", "widgets")
    op.drop_column("widgets", "widget_limit_per_minute")
    op.drop_column("widgets", "visitor_limit_per_minute")
    op.drop_column("widgets", "limit_message")
