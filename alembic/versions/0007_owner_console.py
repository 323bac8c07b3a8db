"""The site owner's side: failed answers apart in usage, usage rows that outlive an erased
visitor, a retention period per widget, and the indexes that listing and erasing need.

Revision ID: 0007
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # An answer that failed (no model could answer) is kept, counted apart, never billed.
    op.add_column(
        "usage_events",
        sa.Column("failed", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    # Erasing a visitor keeps the tokens and cost billed, without the link to them.
    op.alter_column("usage_events", "conversation_id", nullable=True)
    op.alter_column("usage_events", "message_id", nullable=True)
    op.create_index("usage_events_conversation_id_idx", "usage_events", ["conversation_id"])

    op.add_column("widgets", sa.Column("retention_days", sa.Integer, nullable=True))
    op.create_check_constraint(
        "widgets_retention_days_positive", "widgets", "coalesce(retention_days, 1) >= 1"
    )
    op.create_index("widgets_tenant_id_created_at_idx", "widgets", ["tenant_id", "created_at", "id"])

    op.create_index(
        "conversations_widget_id_created_at_idx", "conversations", ["widget_id", "created_at", "id"]
    )
    op.create_index(
        "conversations_widget_id_visitor_id_idx",
        "conversations",
        ["widget_id", "visitor_id"],
        postgresql_where=sa.text("visitor_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("conversations_widget_id_visitor_id_idx", table_name="conversations")
    op.drop_index("conversations_widget_id_created_at_idx", table_name="conversations")
    op.drop_index("widgets_tenant_id_created_at_idx", table_name="widgets")
    op.drop_constraint("widgets_retention_days_positive", "widgets")
    op.drop_column("widgets", "retention_days")
    op.drop_index("usage_events_conversation_id_idx", table_name="usage_events")
    # Rows of erased visitors have no link to restore: the nil UUID stands in, and their
    # tokens and cost stay billed.
    nil = "'00000000-0000-0000-0000-000000000000'"
    op.execute(f"UPDATE usage_events SET conversation_id = {nil} WHERE conversation_id IS NULL")
    op.execute(f"UPDATE usage_events SET message_id = {nil} WHERE message_id IS NULL")
    op.alter_column("usage_events", "message_id", nullable=False)
    op.alter_column("usage_events", "conversation_id", nullable=False)
    op.drop_column("usage_events", "failed")
