"""The embeddable widget: its display settings, and visitors' votes on answers.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

DISPLAY_COLUMNS = (
    ("title", ""),
    ("greeting", "Hi! Ask me anything about this site."),
    ("placeholder", "Type your question…"),
    ("accent_color", "#2563eb"),
    ("position", "bottom-right"),
)


def upgrade() -> None:
    for name, default in DISPLAY_COLUMNS:
        op.add_column(
            "widgets", sa.Column(name, sa.Text(), nullable=False, server_default=default)
        )
    op.add_column(
        "widgets",
        sa.Column("suggested_questions", ARRAY(sa.Text()), nullable=False, server_default="{}"),
    )
    op.create_check_constraint(
        "widgets_position_check", "widgets", "position IN ('bottom-right', 'bottom-left')"
    )

    # One vote per answer: the last one replaces the one before.
    op.create_table(
        "feedback",
        sa.Column(
            "message_id",
            UUID,
            sa.ForeignKey("messages.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "widget_id", UUID, sa.ForeignKey("widgets.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("rating", sa.Text, nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("rating IN ('up', 'down')", name="feedback_rating_check"),
        sa.CheckConstraint("char_length(comment) <= 1000", name="feedback_comment_length"),
    )
    op.create_index("feedback_widget_id_created_at_idx", "feedback", ["widget_id", "created_at"])


def downgrade() -> None:
    op.drop_index("feedback_widget_id_created_at_idx", table_name="feedback")
    op.drop_table("feedback")
    op.drop_constraint("widgets_position_check", "widgets")
    op.drop_column("widgets", "suggested_questions")
    for name, _ in reversed(DISPLAY_COLUMNS):
        op.drop_column("widgets", name)
