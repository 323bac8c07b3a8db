"""Fair ingestion: jobs keep their place in line while a big document yields, tenants and
widgets are served in turn (when each was last served), and each tenant's documents and
chunks of a month are counted for the plan's ingestion limits.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A document's place among its widget's jobs: kept when its job yields after a slice,
    # while available_at says when it may run again.
    op.add_column(
        "jobs",
        sa.Column(
            "queued_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.execute("UPDATE jobs SET queued_at = available_at")
    op.create_table(
        "tenant_turns",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("served_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "widget_turns",
        sa.Column(
            "widget_id",
            UUID,
            sa.ForeignKey("widgets.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("served_at", sa.DateTime(timezone=True), nullable=False),
    )
    # One row per document revision taken in; no foreign key, so deleting a document does
    # not give its month's allowance back.
    op.create_table(
        "ingestion_usage",
        sa.Column("document_id", UUID, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("chunks", sa.Integer, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("document_id", "revision"),
    )
    op.create_index(
        "ingestion_usage_tenant_counted_at_idx", "ingestion_usage", ["tenant_id", "counted_at"]
    )


def downgrade() -> None:
    op.drop_table("ingestion_usage")
    op.drop_table("widget_turns")
    op.drop_table("tenant_turns")
    op.drop_column("jobs", "queued_at")
